import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Each visible command with its long options, read from the program itself, so completion never drifts from it. */
function commandsOf(program: Command): { name: string; options: string[] }[] {
  return program.commands.map((c) => ({ name: c.name(), options: [...c.options.map((o) => o.long).filter((l): l is string => !!l), '--help'] }));
}

/** A completion script for `shell`: commands first, then the options of the command typed. */
export function completionScript(shell: Shell, program: Command): string {
  const commands = commandsOf(program);
  const names = commands.map((c) => c.name).join(' ');
  if (shell === 'bash') {
    const cases = commands.map((c) => `    ${c.name}) opts="${c.options.join(' ')}" ;;`).join('\n');
    return `# interim completion for bash: eval "$(interim completion bash)"
_interim() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -F _interim interim
`;
  }
  if (shell === 'zsh') {
    const cases = commands.map((c) => `    ${c.name}) compadd -- ${c.options.join(' ')} ;;`).join('\n');
    return `#compdef interim
# interim completion for zsh: eval "$(interim completion zsh)"
_interim() {
  if (( CURRENT == 2 )); then
    compadd -- ${names}
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
}
compdef _interim interim
`;
  }
  const lines = [`# interim completion for fish: interim completion fish | source`, 'complete -c interim -f'];
  for (const c of commands) lines.push(`complete -c interim -n '__fish_use_subcommand' -a ${c.name}`);
  for (const c of commands) for (const o of c.options) lines.push(`complete -c interim -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`);
  return lines.join('\n') + '\n';
}
