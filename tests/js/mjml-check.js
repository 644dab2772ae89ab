// Compile MJML with official MJML (npm 'mjml') in strict validation mode.
// Usage: node mjml-check.js FILE.mjml... Prints one JSON object:
// {file: {errors: [formatted messages], html: compiled HTML or null}}.
'use strict';
const fs = require('fs');
const mjml = require('mjml');

async function main() {
  const results = {};
  for (const file of process.argv.slice(2)) {
    const source = fs.readFileSync(file, 'utf8');
    try {
      const result = await mjml(source, { validationLevel: 'strict', filePath: file });
      results[file] = { errors: (result.errors || []).map(e => e.formattedMessage), html: result.html };
    } catch (error) {
      // Strict mode throws on the first invalid element, with the details attached.
      const details = (error.errors || []).map(e => e.formattedMessage || String(e));
      results[file] = { errors: details.length ? details : [String(error.message || error)], html: null };
    }
  }
  process.stdout.write(JSON.stringify(results));
}
main().catch(error => { process.stderr.write(String(error && error.stack || error)); process.exit(2); });
