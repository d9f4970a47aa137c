import random, sys, html
random.seed(int(sys.argv[1]))
pool = [chr(c) for c in range(0xa0,0x180)] + list("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ") + [chr(c) for c in range(0x391,0x3ca)] + [chr(c) for c in range(0x401,0x460)] + list("│┌┐┘├┤┬┼═║╒╓╔▀▄█▌▐░▒▓√≈∂≠≤≥πµ") + [chr(c) for c in range(0x80,0xa0)]
asc = list("abcdefghijklmnopqrstuvwxyz ABCXYZ.,?!'\"<>&;#0123456789\n\t")
ents = ["&amp;","&lt;","&eacute;","&EACUTE;","&#39;","&#x2019;","&#128;","&#59;","&#0;","&#1;","&#xD800;","&#12ab;","&nbsp;","&hellip;","&SZLIG;","&amp;amp;"]
moj = []
for w in ["café","crème","naïve","“quote”","don’t","€5","—","Łódź","Привет","Ελλάδα","…","日本"]:
    b=w.encode("utf-8")
    for e in ["latin-1","windows-1252","windows-1251","windows-1250","windows-1253","cp437","mac_roman"]:
        try: moj.append(b.decode(e))
        except Exception: pass
for i in range(int(sys.argv[2])):
    parts=[]
    for _ in range(random.randint(1,10)):
        r=random.random()
        if r<0.35: parts.append("".join(random.choice(asc) for _ in range(random.randint(1,5))))
        elif r<0.65: parts.append("".join(random.choice(pool) for _ in range(random.randint(1,3))))
        elif r<0.8: parts.append(random.choice(ents))
        else: parts.append(random.choice(moj))
    print("".join(parts).encode("utf-8").hex())
