// Uppercase echo server in Node: pipe each socket through an uppercasing Transform and back.
const net = require('net');
const { Transform } = require('stream');

const [host, port] = [process.argv[2], Number(process.argv[3])];

const server = net.createServer((socket) => {
  const upper = new Transform({
    transform(chunk, _enc, done) {
      done(null, Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1'));
    },
  });
  socket.on('error', (err) => console.error('client error:', err.message));
  socket.pipe(upper).pipe(socket);
});

server.listen(port, host, () => console.log(`listening on ${host}:${port}`));
