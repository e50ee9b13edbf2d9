// The README's five-minute tutorial: a backend that trusts session-gateway's headers and nothing else.
//   node deploy/examples/node/app.js        (PORT defaults to 3000, where gateway.yaml's upstream `app` points)
const http = require('node:http');
http.createServer((req, res) => {
  const shop = req.headers['x-shop-domain'];        // set by the gateway; a client's copy never gets through
  const customer = req.headers['x-customer-id'];    // only for a logged-in customer's token
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ shop, customer: customer ?? null, path: req.url }));
}).listen(Number(process.env.PORT || 3000), '127.0.0.1');   // loopback only: every request goes through the gateway
