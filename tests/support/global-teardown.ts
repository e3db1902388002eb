import { stopProcess } from "../../local/dynamodb-local";

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.ROOMCAST_DYNAMODB_LOCAL_PID);
  if (pid) await stopProcess(pid);
}
