# clerk-bapi-toolkit shell helpers, for bash and zsh.
#
#   eval "$(api-specs-context --shell-init bash)"    # in ~/.bashrc (zsh: --shell-init zsh in ~/.zshrc)
#
# or source this file directly (it then loads completion itself). It defines:
#   bapi-write METHOD PATH [options]   bapi-guard, then bapi-curl, with the same request
#   bapi-browse [TAG] [--api-version DATE] [--include-platform]
#                                      pick a tag, then an endpoint (detail in the preview);
#                                      prints a ready bapi-curl line. Needs fzf.

# bapi-write: the guard's report first, and the request only if the guard allows it. Each option goes
# to the command(s) that accept it; a body or spec on stdin (-d -, --spec -) is read once and given
# to both. Runs in a subshell so a temporary body file is removed even on Ctrl-C.
bapi-write() (
  guard_args=()
  curl_args=()
  positional=0
  stdin_for=''
  tmp=''
  wait_approval=''
  guard_json=''
  trap 'if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi' EXIT
  trap 'exit 130' INT TERM HUP
  while [ $# -gt 0 ]; do
    arg=$1
    shift
    value=''
    has_value=0
    case $arg in
      --?*=*) name=${arg%%=*}; value=${arg#*=}; has_value=1 ;;
      *) name=$arg ;;
    esac
    case $name in
      -d | --data | --spec | -q | --query | --form | --api-version | --ttl | --key-command | --socket | --scopes | -H | --header | --jq | --timeout | -X | --method | --max-items | --batch | --concurrency)
        if [ "$has_value" = 0 ]; then
          if [ $# -eq 0 ]; then
            printf 'bapi-write: %s needs a value\n' "$name" >&2
            exit 2
          fi
          value=$1
          shift
        fi
        ;;
      --wait-approval)
        # Its value is optional: --wait-approval, --wait-approval=SECONDS or --wait-approval SECONDS.
        if [ "$has_value" = 0 ] && [ $# -gt 0 ] && [ "${1#-}" = "$1" ] && [ "$positional" -ge 2 ]; then
          value=$1
          has_value=1
          shift
        fi
        ;;
    esac
    case $name in
      -h | --help)
        cat <<'USAGE'
Usage: bapi-write METHOD PATH [options]

Runs bapi-guard METHOD PATH … and, only if it allows the request, bapi-curl METHOD PATH … with the
same request, so the guard's report comes first and its approval is used at once.

Options for both:      -d JSON|@file|-, -q k=v, --form k=v|k=@file, --admin, -y/--yes,
                       --api-version DATE, --spec FILE|-, --offline, --refresh, --include-platform
For bapi-guard only:   --ttl DURATION, --json (the verdict as JSON on stderr: stdout holds only
                       the response)
For bapi-curl only:    -H 'Name: value', -i, --jq FILTER, --timeout S, --dry-run, --paginate,
                       --slurp, --no-backup, --wait-approval[=SECONDS] (when a person must
                       approve: bapi-curl then waits for their bapi-guard approve, and sends)
(-f/-F are refused: give the body with -d so the guard checks exactly what is sent.)
A body or spec on stdin (-d -, --spec -) is read once and given to both.
BAPI_WRITE_TRACE=1 prints what each command would get, and runs neither.

Exit codes: bapi-guard's when it refuses (2 invalid, 3 scopes/key, 4 needs --yes or, in person mode,
a person's bapi-guard approve), else bapi-curl's.

Examples:
  CLERK_BAPI_SCOPES=write bapi-write POST /users -d '{"email_address":["ada@example.com"]}'
  CLERK_BAPI_SCOPES=write,delete bapi-write DELETE /users/user_123 --yes
  jq -n '{public_metadata:{plan:"pro"}}' | bapi-write PATCH /users/user_123/metadata -d -
USAGE
        exit 0
        ;;
      --)
        while [ $# -gt 0 ]; do
          guard_args+=("$1")
          curl_args+=("$1")
          positional=$((positional + 1))
          shift
        done
        ;;
      -d | --data | --spec)
        if [ "$value" = - ]; then
          if [ -n "$stdin_for" ]; then
            printf 'bapi-write: %s - and %s - both want stdin: give one of them as a file\n' "$stdin_for" "$name" >&2
            exit 2
          fi
          stdin_for=$name
          tmp=$(mktemp "${TMPDIR:-/tmp}/bapi-write.XXXXXX") || exit 1
          cat >"$tmp" || exit 1
          if [ "$name" = --spec ]; then value=$tmp; else value="@$tmp"; fi
        fi
        guard_args+=("$name" "$value")
        curl_args+=("$name" "$value")
        ;;
      -q | --query | --form | --api-version | --batch)
        guard_args+=("$name" "$value")
        curl_args+=("$name" "$value")
        ;;
      --ttl | --key-command | --socket | --scopes)
        # The last three are bapi-guard serve's: the guard refuses them here, saying so.
        guard_args+=("$name" "$value")
        ;;
      -H | --header | --jq | --timeout | -X | --method | --max-items | --concurrency)
        curl_args+=("$name" "$value")
        ;;
      --wait-approval)
        wait_approval=1
        if [ "$has_value" = 1 ]; then curl_args+=("$name" "$value"); else curl_args+=("$name"); fi
        ;;
      -f | --raw-field | -F | --field)
        printf 'bapi-write: %s builds the body inside bapi-curl, where the guard cannot check it first; give the body with -d (or use bapi-curl, which runs the guard itself)\n' "$name" >&2
        exit 2
        ;;
      --admin | -y | --yes | --offline | --refresh | --include-platform)
        guard_args+=("$arg")
        curl_args+=("$arg")
        ;;
      --json)
        guard_args+=("$arg")
        guard_json=1
        ;;
      -i | --include | -v | --verbose | --dry-run | --paginate | --slurp | --no-backup | --resume)
        curl_args+=("$arg")
        ;;
      -?*)
        # Unknown here: both get it, and the guard refuses what it does not know.
        guard_args+=("$arg")
        curl_args+=("$arg")
        ;;
      *)
        guard_args+=("$arg")
        curl_args+=("$arg")
        positional=$((positional + 1))
        ;;
    esac
  done
  if [ "$positional" -eq 0 ]; then
    printf 'bapi-write: missing METHOD PATH\n  Run bapi-write --help for usage.\n' >&2
    exit 2
  fi
  if [ -n "${BAPI_WRITE_TRACE-}" ]; then
    printf 'guard:'; printf ' [%s]' "${guard_args[@]}"; printf '\n'
    printf 'curl:'; printf ' [%s]' "${curl_args[@]}"; printf '\n'
    exit 0
  fi
  # stdout is the response's alone: a --json verdict goes to stderr with the guard's report.
  if [ -n "$guard_json" ]; then bapi-guard "${guard_args[@]}" >&2; else bapi-guard "${guard_args[@]}"; fi
  code=$?
  # A request that waits for a person (exit 4 in person mode) goes on to bapi-curl, which waits for them.
  if [ "$code" -ne 0 ] && ! { [ "$code" -eq 4 ] && [ -n "$wait_approval" ]; }; then exit "$code"; fi
  bapi-curl "${curl_args[@]}"
)

# bapi-browse: tags → endpoints of the tag → Enter prints that endpoint's ready bapi-curl line.
bapi-browse() (
  tab=$(printf '\t')
  tag=''
  extra=''
  extra_args=()
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help)
        printf '%s\n' 'Usage: bapi-browse [TAG] [--api-version DATE] [--include-platform]' \
          '' 'Pick a tag (its endpoints in the preview), then an endpoint (its detail in the preview).' \
          'Enter prints a ready bapi-curl line for it; Esc leaves without printing. Needs fzf.' \
          '' 'Examples:' '  bapi-browse' '  bapi-browse Users' '  bapi-browse --api-version 2025-04-10'
        exit 0
        ;;
      --api-version) export CLERK_API_VERSION="${2-}"; shift ;;
      --api-version=*) export CLERK_API_VERSION="${1#*=}" ;;
      --include-platform) extra=' --include-platform'; extra_args=(--include-platform) ;;
      -?*) printf 'bapi-browse: unknown option: %s\n' "$1" >&2; exit 2 ;;
      *) tag=${tag:+$tag }$1 ;;
    esac
    shift
  done
  if ! command -v fzf >/dev/null 2>&1; then
    printf '%s\n' 'bapi-browse: fzf is not installed: see https://github.com/junegunn/fzf#installation' \
      '  Without fzf: extract-tags, extract-tag-endpoints TAG, extract-endpoint-detail METHOD PATH.' >&2
    exit 1
  fi
  if [ -z "$tag" ]; then
    picked=$(extract-tags "${extra_args[@]}" | fzf --delimiter "$tab" --with-nth 1,2 --nth 1 --prompt 'tag> ' \
      --header 'Clerk Backend API: pick a tag' \
      --preview "extract-tag-endpoints {1}$extra" --preview-window 'right,60%,wrap') || exit $?
    tag=${picked%%"$tab"*}
  fi
  picked=$(extract-tag-endpoints "$tag" "${extra_args[@]}" | fzf --delimiter "$tab" --with-nth 1,2,4 --prompt "$tag> " \
    --header 'Enter: print a ready bapi-curl line' \
    --preview "extract-endpoint-detail {1} {2}$extra" --preview-window 'right,60%,wrap') || exit $?
  method=${picked%%"$tab"*}
  rest=${picked#*"$tab"}
  path=${rest%%"$tab"*}
  extract-endpoint-detail "$method" "$path" "${extra_args[@]}" --json |
    node -e 'let s = ""; process.stdin.setEncoding("utf8").on("data", (d) => { s += d; }).on("end", () => { process.stdout.write(`${JSON.parse(s).examples.bapiCurl}\n`); });'
)

# Completion, unless --shell-init already set it up.
if ! typeset -f _clerk_bapi_complete >/dev/null 2>&1 && command -v api-specs-context >/dev/null 2>&1; then
  if [ -n "${ZSH_VERSION-}" ]; then
    eval "$(api-specs-context --completion zsh)"
  elif [ -n "${BASH_VERSION-}" ]; then
    eval "$(api-specs-context --completion bash)"
  fi
fi
