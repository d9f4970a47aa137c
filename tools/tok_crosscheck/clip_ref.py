import sys
USE_FTFY = len(sys.argv) > 1
if USE_FTFY:
    import os
    exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ftfy_ref.py")).read())
import os, sys, json, regex as re
d=os.environ.get('CLIP_DIR', '../../../shared/golden/tokenizers/clip') + '/'
enc=json.load(open(d+'vocab.json'))
merges=open(d+'merges.txt',encoding='utf-8').read().strip().split('\n')[1:49152-256-2+1]
ranks={tuple(m.split()):i for i,m in enumerate(merges)}
def b2u():
    bs=list(range(ord("!"),ord("~")+1))+list(range(ord("¡"),ord("¬")+1))+list(range(ord("®"),ord("ÿ")+1)); cs=bs[:]; n=0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256+n); n+=1
    return dict(zip(bs,map(chr,cs)))
be=b2u()
cache={"<|startoftext|>":"<|startoftext|>","<|endoftext|>":"<|endoftext|>"}
def pairs(w): return set(zip(w,w[1:]))
def bpe(token):
    if token in cache: return cache[token]
    word=tuple(token[:-1])+(token[-1]+"</w>",); ps=pairs(word)
    if not ps: return token+"</w>"
    while True:
        bg=min(ps,key=lambda p: ranks.get(p,float('inf')))
        if bg not in ranks: break
        f,s=bg; nw=[]; i=0
        while i<len(word):
            try: j=word.index(f,i)
            except ValueError: nw.extend(word[i:]); break
            else: nw.extend(word[i:j]); i=j
            if word[i]==f and i<len(word)-1 and word[i+1]==s: nw.append(f+s); i+=2
            else: nw.append(word[i]); i+=1
        word=tuple(nw)
        if len(word)==1: break
        ps=pairs(word)
    w=" ".join(word); cache[token]=w; return w
pat=re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)
for line in sys.stdin:
    line=line.rstrip("\n")
    t=bytes.fromhex(line).decode("utf-8","replace")
    if USE_FTFY: t=fix_text(t)
    t=re.sub(r"\s+"," ",t).strip().lower()
    out=[]
    for tok in re.findall(pat,t):
        tok="".join(be[b] for b in tok.encode('utf-8'))
        out.extend(enc.get(x, enc['<|endoftext|>']) for x in bpe(tok).split(' '))
    print(" ".join(map(str,[49406]+out+[49407])))
