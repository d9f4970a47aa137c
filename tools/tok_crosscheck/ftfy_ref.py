# Dev-only transcription of ftfy 6.3's fix_text, to cross-check the C port
# (model/tok_clip_clean.c, tok_clip_mojibake.c) on generated text. Not used by tests.
import html, unicodedata, re
import os
_g = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen_ftfy_tables.py')).read()
exec(_g.rsplit('\nmain()', 1)[0])
def cls(name):
    s=CATEGORIES[name]
    return "".join(re.escape(chr(c)) for c in sorted(s))
C={k.lower():cls(k) for k in ["COMMON","C1","BAD","LAW","CURRENCY","START","END","NUMERIC","KAOMOJI","UPPER_ACC","LOWER_ACC","UPPER_COMMON","LOWER_COMMON","BOX"]}
C={"common":C["common"],"c1":C["c1"],"bad":C["bad"],"law":C["law"],"currency":C["currency"],"start_punctuation":C["start"],
   "end_punctuation":C["end"],"numeric":C["numeric"],"kaomoji":C["kaomoji"],"upper_accented":C["upper_acc"],"lower_accented":C["lower_acc"],
   "upper_common":C["upper_common"],"lower_common":C["lower_common"],"box":C["box"]}
BADNESS_RE = re.compile(r"""
    [{c1}]
    |
    [{bad}{lower_accented}{upper_accented}{box}{start_punctuation}{end_punctuation}{currency}{numeric}{law}] [{bad}]
    |
    [a-zA-Z] [{lower_common}{upper_common}] [{bad}]
    |
    [{bad}] [{lower_accented}{upper_accented}{box}{start_punctuation}{end_punctuation}{currency}{numeric}{law}]
    |
    [{lower_accented}{lower_common}{box}{end_punctuation}{currency}{numeric}] [{upper_accented}]
    |
    [{box}{end_punctuation}{currency}{numeric}] [{lower_accented}]
    |
    [{lower_accented}{box}{end_punctuation}] [{currency}]
    |
    \s [{upper_accented}] [{currency}]
    |
    [{upper_accented}{box}] [{numeric}{law}]
    |
    [{lower_accented}{upper_accented}{box}{currency}{end_punctuation}] [{start_punctuation}] [{numeric}]
    |
    [{lower_accented}{upper_accented}{currency}{numeric}{box}{law}] [{end_punctuation}] [{start_punctuation}]
    |
    [{currency}{numeric}{box}] [{start_punctuation}]
    |
    [a-z] [{upper_accented}] [{start_punctuation}{currency}]
    |
    [{box}] [{kaomoji}]
    |
    [{lower_accented}{upper_accented}{currency}{numeric}{start_punctuation}{end_punctuation}{law}] [{box}]
    |
    [{box}] [{end_punctuation}]
    |
    [{lower_accented}{upper_accented}] [{start_punctuation}{end_punctuation}] \w
    |
    [Œœ][^A-Za-z]
    |
    [{upper_accented}]°
    |
    [ÂÃÎÐ][€œŠš¢£Ÿž\xa0\xad®©°·»{start_punctuation}{end_punctuation}–—´]
    |
    × [²³]
    |
      [ØÙ] [{common}{currency}{bad}{numeric}{start_punctuation}ŸŠ®°µ»]
      [ØÙ] [{common}{currency}{bad}{numeric}{start_punctuation}ŸŠ®°µ»]
    |
    à[²µ¹¼½¾]
    |
    √[±∂†≠®™´≤≥¥µø]
    |
    ≈[°¢]
    |
    ‚Ä[ìîïòôúùû†°¢π]
    |
    ‚[âó][àä°ê]
    |
    вЂ
    |
    [ВГРС][{c1}{bad}{start_punctuation}{end_punctuation}{currency}°µ][ВГРС]
    |
    ГўВЂВ.[A-Za-z\ ]
    |
    Ã[\xa0¡]
    |
    [a-z]\s?[ÃÂ][\ ]
    |
    ^[ÃÂ][\ ]
    |
    [a-z.,?!{end_punctuation}] Â [\ {start_punctuation}{end_punctuation}]
    |
    β€[™\xa0Ά\xad®°]
    |
    [ΒΓΞΟ][{c1}{bad}{start_punctuation}{end_punctuation}{currency}°][ΒΓΞΟ]
    |
    ā€
    """.format(**C), re.VERBOSE)
def is_bad(t): return bool(BADNESS_RE.search(t))
def cl(s): return "".join(re.escape(chr(c)) for c in sorted(s))
UTF8_DETECTOR_RE = re.compile("(?<![%s])(?:[%s][%s]|[%s][%s]{2}|[%s][%s]{3})+" % (cl(CONT_STRICT), cl(FIRST2), cl(CONT), cl(FIRST3), cl(CONT), cl(FIRST4), cl(CONT)))
TABLES={e:decode_table(e) for e in ENCODINGS}
def possible(t,e):
    tab=TABLES[e]; ok=set(chr(c) for c in range(0x80) if c!=0x1a)|set(tab[0x80:])|{tab[0x1a]}
    return all(ch in ok for ch in t)
def encode(t,e):
    tab=TABLES[e]; inv={}
    for b in range(255,-1,-1): inv[tab[b]]=b
    for c in range(0x80):
        if c!=0x1a: inv[chr(c)]=c
    return bytes(inv[ch] for ch in t)
ALTERED_UTF8_RE = re.compile(b"[\xc2\xc3\xc5\xce\xd0\xd9][ ]|[\xe2\xe3][ ][\x80-\x84\x86-\x9f\xa1-\xbf]|[\xe0-\xe3][\x80-\x84\x86-\x9f\xa1-\xbf][ ]|[\xf0][ ][\x80-\xbf][\x80-\xbf]|[\xf0][\x80-\xbf][ ][\x80-\xbf]|[\xf0][\x80-\xbf][\x80-\xbf][ ]")
LOSSY_UTF8_RE = re.compile(b"[\xc2-\xdf][\x1a]|[\xc2-\xc3][?]|\xed[\xa0-\xaf][\x1a?]\xed[\xb0-\xbf][\x1a?\x80-\xbf]|\xed[\xa0-\xaf][\x1a?\x80-\xbf]\xed[\xb0-\xbf][\x1a?]|[\xe0-\xef][\x1a?][\x1a\x80-\xbf]|[\xe0-\xef][\x1a\x80-\xbf][\x1a?]|[\xf0-\xf4][\x1a?][\x1a\x80-\xbf][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a?][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a\x80-\xbf][\x1a?]|\x1a")
A_GRAVE_WORD_RE = re.compile(b"\xc3 (?! |quele|quela|quilo|s )")
def restore_byte_a0(b):
    b=A_GRAVE_WORD_RE.sub(b"\xc3\xa0 ",b)
    return ALTERED_UTF8_RE.sub(lambda m: m.group(0).replace(b" ",b"\xa0"), b)
CESU=re.compile(b"\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]")
def dec_variants(b):
    out=[];i=0
    while i<len(b):
        if b[i:i+2]==b"\xc0\x80": out.append("\x00"); i+=2; continue
        m=CESU.match(b,i)
        if m: out.append(m.group(0).decode('utf-16-le','strict') if False else chr(0x10000+((((b[i+1]&0x3f)<<6|(b[i+2]&0x3f))|0xd000)-0xd800<<10)+((((b[i+4]&0x3f)<<6|(b[i+5]&0x3f))|0xd000)-0xdc00))); i+=6; continue
        j=i
        while j<len(b) and not (b[j:j+2]==b"\xc0\x80" or CESU.match(b,j)): j+=1
        out.append(b[i:j].decode('utf-8')); i=j
    return "".join(out)
def c1fix(t): return re.sub("[\x80-\x9f]", lambda m: m.group(0).encode('latin-1').decode(TABLES_NAME_1252), t)
import codecs
def sloppy1252(ch): return TABLES["sloppy-windows-1252"][ord(ch)]
def fix_c1_controls(t): return re.sub("[\x80-\x9f]", lambda m: sloppy1252(m.group(0)), t)
def one_step(text):
    if len(text)==0: return text
    if all(ord(c)<128 for c in text) or not is_bad(text): return text
    poss=[]
    for e in ENCODINGS:
        if possible(text,e):
            poss.append(e); b=encode(text,e)
            try:
                dec="utf-8"
                if e!="macroman" and ALTERED_UTF8_RE.search(b): b=restore_byte_a0(b)
                if e.startswith("sloppy"): b=LOSSY_UTF8_RE.sub("\ufffd".encode(),b)
                if 0xED in b or 0xC0 in b: return dec_variants(b)
                return b.decode("utf-8")
            except UnicodeDecodeError: pass
    if UTF8_DETECTOR_RE.search(text):
        def fx(m):
            s=m.group(0)
            if len(s)<len(text) and is_bad(s): return fix_encoding(s)
            return s
        fixed=UTF8_DETECTOR_RE.sub(fx,text)
        if fixed!=text: return fixed
    if "latin-1" in poss:
        try:
            fixed=text.encode("latin-1").decode("windows-1252")
            if fixed!=text: return fixed
        except UnicodeDecodeError: pass
    if re.search("[\x80-\x9f]",text): return fix_c1_controls(text)
    return text
def fix_encoding(t):
    while True:
        p=t; t=one_step(t)
        if t==p: return t
ENT={}
for name,char in html.entities.html5.items():
    if name.endswith(";"):
        ENT["&"+name]=char
        if name==name.lower():
            u="&"+name.upper()
            if html.unescape(u)==u: ENT[u]=char.upper()
def unesc(t):
    def f(m):
        s=m.group(0)
        if s in ENT: return ENT[s]
        if s.startswith("&#"):
            u=html.unescape(s)
            return s if ";" in u else u
        return s
    return re.sub(r"&#?[0-9A-Za-z]{1,24};", f, t)
LIG={ord("Ĳ"):"IJ",ord("ĳ"):"ij",ord("ŉ"):"ʼn",ord("Ǳ"):"DZ",ord("ǲ"):"Dz",ord("ǳ"):"dz",ord("Ǆ"):"DŽ",ord("ǅ"):"Dž",ord("ǆ"):"dž",ord("Ǉ"):"LJ",ord("ǈ"):"Lj",ord("ǉ"):"lj",ord("Ǌ"):"NJ",ord("ǋ"):"Nj",ord("ǌ"):"nj",ord("ﬀ"):"ff",ord("ﬁ"):"fi",ord("ﬂ"):"fl",ord("ﬃ"):"ffi",ord("ﬄ"):"ffl",ord("ﬅ"):"ſt",ord("ﬆ"):"st"}
W={0x3000:" "}
for i in range(0xFF01,0xFFF0):
    a=unicodedata.normalize("NFKC",chr(i))
    if a!=chr(i): W[i]=a
CTRL={i:None for i in list(range(0,9))+[0xb]+list(range(0xe,0x20))+[0x7f]+list(range(0x206a,0x2070))+[0xfeff]+list(range(0xfff9,0xfffd))}
def fix_segment(t, html_ok):
    while True:
        o=t
        if html_ok: t=unesc(t)
        t=fix_encoding(t)
        t=fix_c1_controls(t)
        t=t.translate(LIG); t=t.translate(W)
        t=re.sub("[\u02bc\u2018-\u201b]","'",re.sub("[\u201c-\u201f]",'"',t))
        t=t.replace("\r\n","\n").replace("\r","\n").replace("\u2028","\n").replace("\u2029","\n").replace("\u0085","\n")
        t=re.sub("\033\\[((?:\\d|;)*)([a-zA-Z])","",t)
        t=t.translate(CTRL)
        t=unicodedata.normalize("NFC",t)
        if t==o: return t
def fix_text(text):
    out=[];pos=0;h=True
    while pos<len(text):
        tb=text.find("\n",pos)+1
        if tb==0: tb=len(text)
        seg=text[pos:tb]
        if h and "<" in seg: h=False
        out.append(fix_segment(seg,h)); pos=tb
    return "".join(out)
