/**
 * How fast does one broadcast reach a big room, for each fan-out concurrency?
 * Evidence for the `fanoutConcurrency` default (handlers/config.ts).
 *
 *   npx tsx bench/fanout-concurrency.ts [latencyMs=20] [members=1000]
 *
 * The loopback Management API runs in a child process with a fixed delay per call
 * (the round trip to API Gateway), so this process's CPU time is the sender's
 * alone: roomcast's transport (handlers/delivery/transport.ts) signing and sending every post.
 */
import { startManagementApiProcess } from "./lib/management-api-process";
import { roomcastDelivery } from "./lib/posters";
import { median } from "./lib/stats";

const concurrencies = [1, 8, 16, 32, 64, 128];
const runsEach = 3;

async function main(latencyMs: number, members: number) {
  const api = startManagementApiProcess(latencyMs);
  const endpoint = await api.url;
  const recipients = Array.from({ length: members }, (_, i) => `conn-${String(i).padStart(10, "0")}=`);
  const json = JSON.stringify({
    type: "message",
    room: "lobby",
    id: "01JZ0000000000000000000000",
    from: "bench",
    text: "x".repeat(100),
    sentAt: new Date().toISOString(),
  });

  console.log(
    `broadcast to ${members} members, ${latencyMs} ms per PostToConnection, median of ${runsEach} warm runs\n`,
  );
  console.log(
    "concurrency | broadcast ms | ideal ms | posts/s | CPU µs/post | CPU ms total | peak in flight",
  );
  console.log(
    "----------: | -----------: | -------: | ------: | ----------: | -----------: | -------------:",
  );
  for (const concurrency of concurrencies) {
    const { delivery, destroy } = roomcastDelivery(endpoint, concurrency);
    // Warm-up: open the transport's keep-alive sockets, as in a warm Lambda container.
    await delivery.broadcast(recipients.slice(0, concurrency * 2), json);
    const walls: number[] = [];
    const cpus: number[] = [];
    await api.clear();
    for (let run = 0; run < runsEach; run++) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const report = await delivery.broadcast(recipients, json);
      walls.push(performance.now() - started);
      const used = process.cpuUsage(cpu);
      cpus.push((used.user + used.system) / 1000);
      if (report.delivered !== members) throw new Error(`delivered ${report.delivered} of ${members}`);
    }
    destroy();
    const wall = median(walls);
    const cpu = median(cpus);
    const ideal = Math.ceil(members / concurrency) * latencyMs;
    console.log(
      [
        concurrency,
        wall.toFixed(0),
        ideal,
        ((members / wall) * 1000).toFixed(0),
        ((cpu * 1000) / members).toFixed(0),
        cpu.toFixed(0),
        await api.peak(),
      ].join(" | "),
    );
  }
  api.stop();
}

main(Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 1000)).catch((error) => {
  console.error(error);
  process.exit(1);
});
