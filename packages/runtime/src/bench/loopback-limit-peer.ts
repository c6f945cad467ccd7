/**
 * The far end of the loopback limit measurements: listens with the addon's raw C TCP server, tells
 * the parent its port, and serves one connection (a sink for the stream test, an echo for the
 * ping-pong) on this process's main thread, which is all this process does.
 */
import { loadAddon } from '@derecho-ts/rdma-native';

const mode = process.argv[2] === 'echo' ? 'echo' : 'sink';
const msgBytes = Number(process.argv[3] ?? 0);
const addon = loadAddon();
const { fd, port } = addon.rawListen('127.0.0.1');
process.stdout.write(`PORT ${port}\n`);
addon.rawServe(fd, mode, msgBytes);
addon.rawClose(fd);
