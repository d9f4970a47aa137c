import random, sys
random.seed(int(sys.argv[1]))
pools = [
 "abcdefghijklmnopqrstuvwxyz", "ABCXYZ", "0123456789", " ", "  ", "\t\n\r", ".,;:!?'\"-()[]{}<>/\\|@#$%^&*_+=~`",
 "\u00a0\u3000\u200b\u2003\u2009\u202f\u205f\u1680\u0085\u2028\u2029\ufeff",
 "\u0301\u0302\u0303\u0308\u0323\u031b\u0306\u0345\u20dd\u0651",
 "éèêëàâäôöüçñÅøß", "ﬁﬂﬀ²³¹½¼¾ⅫⅣ①②™®©℃№…㎏㍻₂", "ｈｅｌｌｏＡＢＣ１２３！（）ｶﾀﾅ",
 "一只猫東京の夜景서울의밤", "🙂🍕🌅🏖️👨‍👩‍👧‍👦👍🏽🇯🇵🇺🇸❤️", "ΑΒΓΣσςάέ", "Привет", "مرحبا", "नमस्ते", "สวัสดี",
 "\x00\x01\x07\x1b\x7f\x80\x9f", "\u1100\u1161\u11a8", "▁", "\ufffd", "İıſ",
 ["</s>", "<pad>", "<unk>", "<extra_id_0>", "<extra_id_99>", "<extra_id_5>", "<s>"],
]
def piece():
  p = random.choice(pools)
  if isinstance(p, list): return random.choice(p)
  return "".join(random.choice(p) for _ in range(random.randint(1,4)))
for i in range(int(sys.argv[2])):
  s = "".join(piece() for _ in range(random.randint(0,12)))
  print(s.encode("utf-8").hex())
# raw random code points
for i in range(int(sys.argv[2])//3):
  cps=[]
  for _ in range(random.randint(1,10)):
    r=random.random()
    if r<0.3: cps.append(random.randint(0x20,0x7e))
    elif r<0.6: cps.append(random.randint(0x80,0x2fff))
    elif r<0.8: cps.append(random.randint(0x3000,0xffff))
    else: cps.append(random.randint(0x10000,0x10ffff))
  s="".join(chr(c) for c in cps if not 0xd800<=c<0xe000)
  print(s.encode("utf-8").hex())
