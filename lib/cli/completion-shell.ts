// The shell side of the integration: the completion scripts for bash and zsh (thin: they ask
// `api-specs-context --complete` for candidates), and the init script that `--shell-init` prints.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from './flags.js';
import { UsageError } from '../core/errors.js';
import { SHELL_FUNCTIONS, SHELLS, type Shell } from './completion.js';

export function parseShell(raw: string, flag: string): Shell {
  const name = raw.trim().toLowerCase().split('/').pop() ?? '';
  if ((SHELLS as readonly string[]).includes(name)) return name as Shell;
  throw new UsageError(`${flag} ${raw}: unsupported shell`, { hints: [`Use one of: ${SHELLS.join(', ')}.`] });
}

const BASH = `# bash completion for clerk-bapi-toolkit: eval "$(api-specs-context --completion bash)"
_clerk_bapi_complete() {
  local -a lines
  local line value i quoted=''
  # Inside an open quote, readline inserts the value as it is: backslashes would be typed literally.
  [[ \${COMP_WORDS[COMP_CWORD]-} == [\\'\\"]* ]] && quoted=1
  mapfile -t lines < <(command api-specs-context --complete -- "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
  COMPREPLY=()
  case \${lines[0]-} in
    :files) compopt -o default 2>/dev/null; return 0 ;;
    :words) ;;
    *) return 0 ;;
  esac
  for ((i = 1; i < \${#lines[@]}; i++)); do
    line=\${lines[i]}
    value=\${line%%$'\\t'*}
    # Tags such as "Email Addresses" need quoting; template paths ({user_id}) do not.
    [[ -z $quoted && $value == *[!A-Za-z0-9_./{}=@:,+%-]* ]] && printf -v value '%q' "$value"
    COMPREPLY+=("$value")
  done
  # A directory goes on (/), and so does a query parameter's value (order_by=).
  [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == *[/=] ]] && compopt -o nospace 2>/dev/null
  return 0
}
complete -F _clerk_bapi_complete ${COMMANDS.join(' ')} ${Object.keys(SHELL_FUNCTIONS).join(' ')}
`;

const ZSH = `# zsh completion for clerk-bapi-toolkit: eval "$(api-specs-context --completion zsh)"
_clerk_bapi_complete() {
  local -a lines values shown
  local line
  lines=("\${(@f)$(command api-specs-context --complete -- "\${(@)words[1,CURRENT]}" 2>/dev/null)}")
  case \${lines[1]-} in
    :files) _files; return ;;
    :words) ;;
    *) return 1 ;;
  esac
  for line in "\${(@)lines[2,-1]}"; do
    [[ -n $line ]] || continue
    values+=("\${line%%$'\\t'*}")
    if [[ $line == *$'\\t'* ]]; then shown+=("\${line%%$'\\t'*}  -- \${line#*$'\\t'}"); else shown+=("$line"); fi
  done
  (( \${#values} )) || return 1
  local -a suffix
  (( \${#values} == 1 )) && [[ \${values[1]} == *[/=] ]] && suffix=(-S '')
  # -U: candidates were already matched (case-insensitively) against what was typed.
  compadd -U -l -d shown "\${suffix[@]}" -a values
}
if (( ! $+functions[compdef] )); then
  autoload -Uz compinit && compinit -i
fi
compdef _clerk_bapi_complete ${COMMANDS.join(' ')} ${Object.keys(SHELL_FUNCTIONS).join(' ')}
`;

export function completionScript(shell: Shell): string {
  return shell === 'bash' ? BASH : ZSH;
}

/** lib/shell/bapi.sh of this package, found from this module (lib/ in the source, dist/scripts/ when bundled). */
export function shellFilePath(moduleUrl: string = import.meta.url): string {
  for (const candidate of ['../shell/bapi.sh', '../../lib/shell/bapi.sh', '../lib/shell/bapi.sh', '../../../lib/shell/bapi.sh']) {
    const path = fileURLToPath(new URL(candidate, moduleUrl));
    if (existsSync(path)) return path;
  }
  throw new Error('lib/shell/bapi.sh is missing from this installation of clerk-bapi-toolkit');
}

/**
 * What `eval "$(api-specs-context --shell-init SHELL)"` runs: completion first, then the helpers
 * (which then skip loading completion themselves).
 */
export function shellInit(shell: Shell): string {
  const helpers = readFileSync(shellFilePath(), 'utf8');
  return `${completionScript(shell)}\n${helpers}`;
}
