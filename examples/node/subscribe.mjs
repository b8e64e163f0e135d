// Subscribes to one user's balance and transactions and prints each event.
// Usage: TOKEN=<jwt> PUBKEY=<base58 pubkey> node subscribe.mjs [ws://localhost:8080/stomp]
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';

Object.assign(globalThis, { WebSocket }); // Node 20 has no global WebSocket

const { TOKEN, PUBKEY } = process.env;
const url = process.argv[2] ?? 'ws://localhost:8080/stomp';
const lastId = {}; // destination -> last message-id processed, for x-resume-after

const client = new Client({
  brokerURL: url,
  connectHeaders: { passcode: TOKEN },
  reconnectDelay: 2000,
  onConnect: () => {
    for (const destination of [`/user/${PUBKEY}/balance`, `/user/${PUBKEY}/tx`]) {
      const headers = lastId[destination] ? { 'x-resume-after': lastId[destination] } : {};
      client.subscribe(destination, (message) => {
        const { event, data, timestamp } = JSON.parse(message.body);
        if (/^\d+$/.test(message.headers['message-id'])) lastId[destination] = message.headers['message-id'];
        console.log(timestamp, event, JSON.stringify(data));
      }, headers);
    }
    console.log(`connected to ${url} as ${PUBKEY}`);
  },
  onStompError: (frame) => console.error('broker error:', frame.headers.message),
});
client.activate();
