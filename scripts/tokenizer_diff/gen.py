# Generates the strings for the llama.cpp comparison: one file, each string followed by \x1e\n.
# usage: gen.py [SHARED_DIR [OUT_FILE]]
# SHARED_DIR defaults to $TANDEM_SHARED_DIR, else ../shared beside the repository.
import json, os, random, sys
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('TANDEM_SHARED_DIR') or os.path.join(REPO, '..', 'shared')
if not os.path.isdir(SHARED):
    sys.exit(f'error: no shared folder at {SHARED} (set TANDEM_SHARED_DIR; see README)')
OUT = sys.argv[2] if len(sys.argv) > 2 else 'inputs.bin'
random.seed(7)
atoms = ["a","b","Z","Hello","world"," the"," ","  ","   ","\t","\n","\n\n","\r\n","\r","'","'s","'S","'ll","'LL","'re","'ve","'d","'t","'m",
 ".",",","!","?","...","--","—","–","(",")","[","]","{","}","<",">","/","\\","|","$","€","£","%","^","&","*","_","=","+","~","`","@","#",
 "0","7","42","1234","3333333","12345678","½","²","٣","Ⅻ","०","¾",
 "é","É","ü","Äpfel","naïve","ß","ǅ","ﬁ","İ","Σ","ς","ω","ḗ","ℌ","Ω","K",
 "\u0301","\u0308","e\u0301","\u200b","\u200d","\u00a0","\u3000","\u2028","\u0085","\u2009","\u202f","\u1680","\ufeff","\u00ad",
 "日本語","中文","한국어","こんにちは","カタカナ","Русский","ελληνικά","עברית","العربية","हिन्दी","ไทย","ქართული",
 "🦙","🐶","👍🏽","👨‍👩‍👧","🇺🇸","❤️","©","™","∑","√","∞","≠",
 "<s>","</s>","<unk>","<|endoftext|>","[CLS]","[SEP]","[MASK]","<|user|>","<|assistant|>","<|end|>","<|system|>","<pad>","<mask>",
 "▁","▁▁","Ġ","Ċ","ĉ","<0x0A>","\x00","\x01","\x1f","\x7f",
 "int main() {","    return 0;","}","def f(x):","\tif x:","<html>","</div>","http://example.com/a?b=c","user@mail.com",
]
bad = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80", b"\xf8\x88\x80\x80\x80"]
out = []
inp = open(SHARED + '/fixtures/tokenizer/ggml-vocab-gpt-2.gguf.inp','rb').read().split(b"\n__ggml_vocab_test__\n")[:-1]
out += inp
import os, glob
for f in sorted(glob.glob(SHARED + '/fixtures/stories260K/tokenize-inputs/*.txt')):
    out.append(open(f,'rb').read())
with open(SHARED + '/data/tinystories-train/train-00.jsonl') as fh:
    for i, line in enumerate(fh):
        if i >= 40: break
        out.append(json.loads(line)["text"].encode())
for i in range(700):
    n = random.randint(1, 30)
    parts = []
    for _ in range(n):
        if random.random() < 0.03:
            parts.append(random.choice(bad))
        else:
            parts.append(random.choice(atoms).encode())
    out.append(b"".join(parts))
# long whitespace runs and digit runs
for k in [1,2,3,4,5,8,16,33]:
    out.append(b" " * k + b"x" + b" " * k)
    out.append(b"\n" * k + b"y")
    out.append(b"9" * k)
for s in out:
    assert b"\x1e" not in s
open(OUT,'wb').write(b"\x1e\n".join(out) + b"\x1e\n")
print(len(out))
