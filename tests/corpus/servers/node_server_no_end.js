// Uppercase echo server in Node that supports half-closed connections (allowHalfOpen),
// but never ends its own side.
const net = require('net');

const host = process.argv[2];
const port = Number(process.argv[3]);

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('data', (data) => {
    socket.write(data.toString('latin1').toUpperCase(), 'latin1');
  });
  socket.on('end', () => {
    console.log('client finished sending');
  });
});
server.listen(port, host);
