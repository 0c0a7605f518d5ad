// graphql-http's server audit (the GraphQL-over-HTTP spec's checks) against a running server.
//   node audit.mjs http://127.0.0.1:PORT/graphql
// Prints one line per audit and a closing count; exits 1 unless every audit is ok.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  results.push({ name: audit.name, result: await audit.fn() });
}
let ok = 0;
for (const { name, result } of results) {
  if (result.status === 'ok') ok += 1;
  console.log(`${result.status.padEnd(7)} ${name}${result.status === 'ok' ? '' : `: ${result.reason}`}`);
}
const notOk = results.length - ok;
console.log(`http audit: ${ok} ok, ${notOk} not ok (of ${results.length})`);
process.exit(notOk === 0 ? 0 : 1);
