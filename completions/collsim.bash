# bash completion for collsim: subcommands, then each subcommand's options as
# its own --help lists them (so completion never goes stale), then file
# names. Installed by `cmake --install` into share/bash-completion/completions.
_collsim() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prog=${COMP_WORDS[0]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    mapfile -t COMPREPLY < <(compgen -W "run sweep goodput collective validate topo version --help --version" -- "$cur")
    return
  fi
  local command=${COMP_WORDS[1]}
  if [[ $cur == -* ]]; then
    local options
    options=$("$prog" "$command" --help 2>/dev/null | grep -o -- '--[a-z_-]*' | sort -u)
    mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
    return
  fi
  mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
complete -o filenames -F _collsim collsim
