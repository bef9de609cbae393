// Echo client in Node with streams: write with backpressure, read with 'data' events.
const net = require('net');

const host = process.argv[2];
const port = parseInt(process.argv[3], 10);
const total = parseInt(process.argv[4], 10);
const piece = Buffer.from('streams handle it '.repeat(100));

let sent = 0;
let received = 0;
let wrong = 0;

const sock = net.createConnection({ host, port }, () => {
  function pump() {
    while (sent < total) {
      const part = piece.subarray(0, Math.min(piece.length, total - sent));
      sent += part.length;
      if (!sock.write(part)) {
        sock.once('drain', pump);
        return;
      }
    }
    sock.end();
  }
  pump();
});

sock.on('data', (data) => {
  received += data.length;
  for (const b of data) if (b >= 0x61 && b <= 0x7a) wrong++;
});
sock.on('end', () => {
  console.log(`sent ${sent}, received ${received}, ${wrong} lowercase bytes`);
  process.exitCode = received === total && wrong === 0 ? 0 : 1;
});
sock.on('error', (err) => {
  console.error('socket error:', err.message);
  process.exitCode = 1;
});
