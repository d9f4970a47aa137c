const { Tokenizer } = require("tokenizers");
const fs = require("fs");
(async () => {
  const tok = Tokenizer.fromFile(process.argv[2]);
  const lines = fs.readFileSync(0, "utf8").split("\n").filter(l => l.length > 0 || true);
  const out = [];
  for (const l of lines) {
    if (l === "" && out.length === lines.length - 1) break;
    const s = Buffer.from(l, "hex").toString("utf8");
    const enc = await tok.encode(s);
    out.push(enc.getIds().join(" "));
  }
  process.stdout.write(out.join("\n") + "\n");
})();
