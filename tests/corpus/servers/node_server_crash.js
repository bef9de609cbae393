// Uppercase echo server in Node (crashes on the first message: toUppercase is not a function).
const net = require('net');

const host = process.argv[2];
const port = +process.argv[3];

net.createServer((socket) => {
  socket.on('data', (data) => {
    socket.write(data.toString().toUppercase());
  });
  socket.on('end', () => socket.end());
}).listen(port, host, () => console.log('server ready on port', port));
