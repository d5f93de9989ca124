// `npm run bench:api`'s yardstick: a bare Fastify route (no hooks, no database) on the same
// machine, in its own process like the platform. Prints its port on stdout, stops on SIGTERM.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/bare', async () => ({ status: 'ok', items: [{ id: 1, name: 'one' }] }));
await app.listen({ host: '127.0.0.1', port: 0 });
const a = app.server.address();
console.log(JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 }));
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
