import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';

/**
 * What the Coolify flavour cannot guarantee by itself. Coolify writes each variable of an
 * application into its `.env` unquoted (app/Models/EnvironmentVariable.php, getResolvedValueWithServer,
 * at v4.3.11) unless its Interpolation is set to Literal, and Compose expands every `$NAME` in an
 * unquoted .env value (compose-go dotenv/parser.go, extractVarValue). Values the READMEs tell the owner
 * to generate never contain `$` (base64, hex, base64 bcrypt hashes); a value supplied from elsewhere
 * (a token) may.
 */
export function coolifyLiteralSecrets(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const service of platform.services) {
    if (service.external) continue;
    for (const secret of service.secrets) {
      if (secret.generate !== 'manual') continue;
      findings.push({
        rule: 'coolify-literal-secret',
        severity: 'warning',
        path: [...service.configPath],
        message: `${secret.name} (${secret.description}) is supplied by you: on Coolify, a '$' in its value is expanded by Compose unless the variable is Literal`,
        fix: `in the Coolify application of ${service.stackName}, set ${secret.name}'s Interpolation to Literal (or use the plain flavour's .env with the value in single quotes)`,
      });
    }
  }
  return findings;
}
