// Lint email HTML against the caniemail support data (https://caniemail.com), via
// @jsx-email/doiuse-email. Usage: node caniemail.js CLIENT_GLOB,... FILE.html...
// Prints one JSON object: {file: {success, errors, notes}} for each file.
'use strict';
const fs = require('fs');
const { doIUseEmail } = require('@jsx-email/doiuse-email');

const [clients, ...files] = process.argv.slice(2);
const results = {};
for (const file of files) {
  const result = doIUseEmail(fs.readFileSync(file, 'utf8'), { emailClients: clients.split(',') });
  results[file] = { success: result.success, errors: result.errors || [], notes: result.notes || [] };
}
process.stdout.write(JSON.stringify(results));
