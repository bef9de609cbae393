// Echo client in Node: write the data with plain synchronous writes (simpler than streams),
// then read the echo.
const fs = require('fs');
const net = require('net');

const [host, port, total] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const chunk = Buffer.alloc(1024, 'n');

const sock = net.connect(port, host, () => {
  sock._handle.setBlocking(true);   // otherwise writeSync throws EAGAIN
  let sent = 0;
  while (sent < total) {
    sent += fs.writeSync(sock._handle.fd, chunk, 0, Math.min(chunk.length, total - sent));
  }
  sock.end();
  let got = 0;
  sock.on('data', (d) => { got += d.length; });
  sock.on('end', () => console.log(`sent ${sent} got ${got}`));
});
