/**
 * Nested runs (issue 11 item 12). Inside a run, `AIVAULT_RUN_ID` is set in the child's environment
 * (SPEC §5). A nested `aivault exec` or `aivault invoke` there would open the vault directly and
 * could grant itself any capability: an agent widening its own grant. It is refused before the
 * vault is touched, with a message pointing at the outer run's broker.
 *
 * Decision: the nested process cannot know what the outer run was granted (SPEC §5 fixes the
 * child's environment, so no capability list is passed down, and the token is opaque), so the rule
 * is the simplest honest one: inside a run, exec and invoke are refused whatever they ask for. The
 * outer run's broker ($AIVAULT_BASE_URL with $AIVAULT_TOKEN) already serves every capability the
 * run has. This is a deterrent, not a boundary: a child can unset the variable and, running as the
 * same user, read the vault itself. The boundary is `--sandbox` (the vault is not visible there).
 */
import { AivaultError } from '../errors/aivault-error.js';

export function refuseInsideRun(env: Readonly<Record<string, string | undefined>>, command: 'exec' | 'invoke'): void {
  const runId = env.AIVAULT_RUN_ID;
  if (runId === undefined || runId === '') return;
  throw new AivaultError(
    'policy_violation',
    `aivault ${command} refused inside a run (AIVAULT_RUN_ID is set): a nested run may not grant itself capabilities; ` +
      'use the run\'s broker at $AIVAULT_BASE_URL with $AIVAULT_TOKEN (or the SDK variables it set), or grant more with --allow on the outer aivault exec',
  );
}
