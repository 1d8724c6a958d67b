// Shared by the client scripts: read the job from argv, print one JSON result, never hang.
export function job() {
  const config = JSON.parse(process.argv[2]);
  const limit = setTimeout(() => {
    process.stdout.write(JSON.stringify({ timeout: true }));
    process.exit(3);
  }, config.timeoutMs ?? 20000);
  limit.unref();
  return config;
}

export function report(result) {
  process.stdout.write(JSON.stringify(result));
}
