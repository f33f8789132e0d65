// Prints graphql-js's verdicts on every SDL pair under the directory given as the first argument:
// {"<case>": {"breaking": [{"type": "FIELD_REMOVED", "description": "..."}], "dangerous": [...]}}.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, findBreakingChanges, findDangerousChanges } from 'graphql';

const dir = process.argv[2];
const verdicts = {};
for (const name of readdirSync(dir).sort()) {
  const read = (side) => buildSchema(readFileSync(join(dir, name, `${side}.graphql`), 'utf8'));
  try {
    const [oldSchema, newSchema] = [read('old'), read('new')];
    verdicts[name] = {
      breaking: findBreakingChanges(oldSchema, newSchema),
      dangerous: findDangerousChanges(oldSchema, newSchema),
    };
  } catch (e) {
    verdicts[name] = { error: String(e.message) };
  }
}
process.stdout.write(JSON.stringify(verdicts, null, 1) + '\n');
