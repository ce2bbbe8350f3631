// Fails fast when a script runs on a Node other than the pinned major (see package.json engines).
const required = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major !== required) {
  console.error(
    `vaultsync needs Node ${required} (found ${process.version}); run 'npm ci' so node_modules/.bin/node is used.`,
  );
  process.exit(1);
}
console.log(`Node ${process.version} OK`);
