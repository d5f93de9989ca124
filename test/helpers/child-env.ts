// The environment for a platform or CLI child a test spawns: the developer's environment
// without any INFOGERE_* setting (the config refuses unknown ones and would pick up a real
// data dir or SMTP relay), plus exactly the settings the test gives.
export function childEnv(settings: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('INFOGERE_')) out[name] = value;
  }
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined) out[name] = value;
  }
  return out;
}
