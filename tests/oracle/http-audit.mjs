// Runs graphql-http's GraphQL-over-HTTP server audits against a running server.
// Usage: node http-audit.mjs http://127.0.0.1:PORT/graphql
// Prints one line per audit that is not `ok` and a summary line as JSON; exits 1 on any
// error or warning.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node http-audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  if (result.status !== 'ok') {
    let detail = '';
    if (result.response) {
      const body = await result.response.text().catch(() => '');
      detail = ` (HTTP ${result.response.status}: ${body.slice(0, 200)})`;
    }
    console.log(`${result.status} ${result.id} ${result.name}: ${result.reason}${detail}`);
  }
}
console.log(JSON.stringify({ audits: results.length, ...counts }));
process.exit(counts.warn + counts.error > 0 ? 1 : 0);
