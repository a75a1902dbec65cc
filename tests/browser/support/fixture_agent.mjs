// The fixture agent (tests/fixtures/plugins/agent-fixture) and prompts that steer it: lines that start
// with "FIXTURE: " are its directives (see fixture_agent.sh).
export const FIXTURE_AGENT = {
  plugin: 'agent-fixture',
  name: 'fixture',
  component: 'dev.coda.test.agent-fixture',
};

// Prints progress output in `rounds` bursts `pauseMs` apart: round k prints "PROGRESS: step 1..k",
// so the task's progress message changes every round (step 1, step 2, ...) while it runs.
export function slowTaskPrompt(rounds, pauseMs) {
  const lines = [`Print ${rounds} rounds of progress (browser test).`];
  for (let k = 1; k <= rounds; k++) {
    lines.push(`FIXTURE: lines ${k}`, `FIXTURE: sleep ${(pauseMs / 1000).toFixed(2)}`);
  }
  return lines.join('\n');
}

// Runs until cancelled.
export function hangingTaskPrompt() {
  return 'Wait until cancelled (browser test).\nFIXTURE: lines 1\nFIXTURE: hang';
}
