/**
 * Opens the embedded database of DATA_DIR (argv[2]) and inserts rows one at a time, writing
 * each row's number to stdout once the database has answered for it, until it is killed.
 */
import { openDatabase } from '../../../../bot/store/database.ts';

const db = await openDatabase({ dataDir: process.argv[2]! });
await db.exec('CREATE TABLE IF NOT EXISTS answered (n int PRIMARY KEY)');
for (let n = 1; ; n++) {
  await db.query('INSERT INTO answered VALUES ($1)', [n]);
  process.stdout.write(`${n}\n`);
}
