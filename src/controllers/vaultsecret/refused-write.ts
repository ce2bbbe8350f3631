// Moved to controllers/failure (shared by every controller); kept so older imports compile.
export { refusedWrite, refusedWriteMessage } from '../failure/refused-write.ts';
