// Echo client in Node: send, look at the first reply, and hang up.
const net = require('net');

const [host, port, total] = [process.argv[2], +process.argv[3], +process.argv[4]];

const sock = net.connect({ host, port });
sock.on('connect', () => {
  sock.write(Buffer.alloc(total, 'd'));
  sock.end();
});
sock.once('data', (first) => {
  console.log('first reply:', first.subarray(0, 16).toString(), '...');
  sock.destroy();   // seen enough
});
