/** A process that opens the embedded database of DATA_DIR (argv[2]) and holds it until killed. */
import { openDatabase } from '../../bot/store/database.ts';

await openDatabase({ dataDir: process.argv[2]! });
process.stdout.write('open\n');
setInterval(() => {}, 60_000);
