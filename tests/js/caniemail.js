// Lint email HTML against the caniemail support data (https://caniemail.com), via
// @jsx-email/doiuse-email. Usage: node caniemail.js CLIENT_GLOB,... FILE.html...
// Prints one JSON object: {file: {success, errors, notes}} for each file.
'use strict';
const fs = require('fs');

// doiuse-email's list of client keys lacks Outlook.com, though the caniemail data it bundles
// has it (stats.outlook['outlook-com']). Its client globs are matched with micromatch against
// that list: hand it a micromatch that adds the key, before doiuse-email loads.
const micromatch = require('micromatch');
const withOutlookCom = (list, globs, ...rest) =>
  micromatch([...list, 'outlook.outlook-com'], globs, ...rest);
require.cache[require.resolve('micromatch')].exports = Object.assign(withOutlookCom, micromatch);
const { doIUseEmail } = require('@jsx-email/doiuse-email');

const [clients, ...files] = process.argv.slice(2);
const results = {};
for (const file of files) {
  const result = doIUseEmail(fs.readFileSync(file, 'utf8'), { emailClients: clients.split(',') });
  results[file] = { success: result.success, errors: result.errors || [], notes: result.notes || [] };
}
process.stdout.write(JSON.stringify(results));
