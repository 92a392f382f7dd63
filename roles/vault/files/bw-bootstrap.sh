#!/bin/sh
# bw-bootstrap.sh - the customer-side vault session (the runbook's D-day step 3), pushed to
# ~/.axe/bin by `axe vault session CUSTOMER --apply`.
#
# Once, by customer IT, at the Mac mini (or over `ssh -t`): it asks for the vault account's master
# password, so it needs a person at the keyboard.
#     ~/.axe/bin/bw-bootstrap.sh VAULT_URL EMAIL [--keychain]
# Afterwards the session is in ~/.bw-session (mode 600) - or, with --keychain, in the login
# Keychain as axe.vault.session - and the operator's tools use it over SSH with nobody there:
#     ~/.axe/bin/bw-bootstrap.sh --check EMAIL [--keychain]    (what `axe vault session` runs)
# --check never prints the session; it prints key=value lines and exits 0 only when it works.
set -u
PATH="/opt/homebrew/bin:/usr/local/bin:$PATH"   # trap T07: bw is Homebrew's, a non-login shell lacks it
export PATH
SESSION_FILE="$HOME/.bw-session"
KEYCHAIN_SERVICE=axe.vault.session

say() { printf '%s\n' "$*" >&2; }

status_of() {
    # `bw status` prints JSON; the "status" field is unauthenticated, locked or unlocked.
    sed -n 's/.*"status" *: *"\([a-z]*\)".*/\1/p'
}

# T26: the CLI (2025.7.0, seen on a busy machine) sometimes exits 0 having printed nothing and done nothing. `bw status`
# always prints: asked up to three times. Uses BW_SESSION from the caller's environment when set.
bw_state() {
    for _ in 1 2 3; do
        s=$(bw status 2>/dev/null </dev/null | status_of)
        [ -n "$s" ] && { echo "$s"; return 0; }
    done
    return 1
}

check() {
    email=$1 keychain=$2
    if ! bw_path=$(command -v bw); then
        echo "bw=missing"
        echo "next=customer IT: brew install bitwarden-cli, then run ~/.axe/bin/bw-bootstrap.sh VAULT_URL $email"
        return 3
    fi
    echo "bw=$bw_path"
    if [ "$keychain" = yes ]; then
        echo "source=keychain"
        # On success only the password is printed (stdout); on failure only the reason (stderr).
        if ! session=$(security find-generic-password -s "$KEYCHAIN_SERVICE" -a "$email" -w 2>&1 </dev/null); then
            reason=$session
            case $reason in
                *"User interaction is not allowed"*)
                    echo "keychain=T20 $reason"
                    echo "next=customer IT, at the Mac mini: ~/.axe/bin/bw-bootstrap.sh VAULT_URL $email --keychain (it writes the item with the security tool, which SSH sessions can read)" ;;
                *) echo "keychain=missing $reason"
                   echo "next=customer IT: ~/.axe/bin/bw-bootstrap.sh VAULT_URL $email --keychain" ;;
            esac
            return 1
        fi
        echo "keychain=ok"
    else
        echo "source=file"
        if [ ! -f "$SESSION_FILE" ]; then
            echo "file=missing"
            echo "next=customer IT: ~/.axe/bin/bw-bootstrap.sh VAULT_URL $email"
            return 1
        fi
        # ls -ln is the same on macOS and Linux: mode string, links, uid. Split into words on purpose.
        # shellcheck disable=SC2046
        set -- $(ls -ln "$SESSION_FILE")
        if [ "$1" != "-rw-------" ] || [ "$3" != "$(id -u)" ]; then
            echo "file=unsafe $1 uid $3 (want -rw------- uid $(id -u))"
            echo "next=chmod 600 $SESSION_FILE (as $(id -un)), or run the helper again"
            return 1
        fi
        echo "file=ok"
        session=$(cat "$SESSION_FILE")
    fi
    state=$(BW_SESSION="$session" bw_state)
    echo "status=${state:-error}"
    if [ "$state" != unlocked ]; then
        echo "next=the session has expired or was locked: customer IT runs ~/.axe/bin/bw-bootstrap.sh VAULT_URL $email again"
        return 1
    fi
    return 0
}

log_in() {
    bw config server "$url" >/dev/null || exit 1
    say "Log in to $url as $email (master password, then any two-step code):"
    bw login "$email" >/dev/null || exit 1
    if [ "$(bw_state)" = unauthenticated ]; then
        say "bw login ended without logging in (T26); run this again: ~/.axe/bin/bw-bootstrap.sh $again"
        exit 1
    fi
}

setup() {
    url=$1 email=$2 keychain=$3
    if [ ! -t 0 ]; then
        say "bw-bootstrap.sh asks for the vault's master password: run it at the Mac mini, or with ssh -t"
        exit 2
    fi
    command -v bw >/dev/null || { say "bw not found: brew install bitwarden-cli, then run this again"; exit 3; }
    again="$url $email"; [ "$keychain" = yes ] && again="$again --keychain"
    state=$(bw_state)
    if [ "$state" = unauthenticated ] || [ -z "$state" ]; then
        log_in
    fi
    say "Unlock the vault for the operator's tools (master password):"
    session=$(bw unlock --raw) || exit 1
    if [ -z "$session" ]; then
        # T26: a login the CLI ended before it finished leaves a vault that unlocks to nothing, every time; logging
        # out and in again is what clears it. Once.
        say "bw unlock printed no session key (bw status: $(bw_state || echo 'no answer')); log in once more:"
        bw logout >/dev/null 2>&1 </dev/null
        log_in
        say "Unlock the vault for the operator's tools (master password):"
        session=$(bw unlock --raw) || exit 1
    fi
    if [ -z "$session" ]; then
        say "bw unlock gave no session, after logging in again too; run this again: ~/.axe/bin/bw-bootstrap.sh $again"
        exit 1
    fi
    if [ "$keychain" = yes ]; then
        # A fresh item made by the security tool carries the partition SSH sessions may read (T20);
        # updating an item another app made would keep that app's partition list.
        security delete-generic-password -s "$KEYCHAIN_SERVICE" -a "$email" >/dev/null 2>&1
        # Through `security -i` (commands on stdin; printf is the shell's own): the session is never on a
        # command line, where any process on the Mac mini could read it. The check below proves it was stored.
        printf 'add-generic-password -s "%s" -a "%s" -w "%s"\n' "$KEYCHAIN_SERVICE" "$email" "$session" \
            | security -i >/dev/null || exit 1
    else
        old_umask=$(umask); umask 077
        tmp=$(mktemp "$HOME/.bw-session.XXXXXX") || exit 1
        if ! { printf '%s' "$session" > "$tmp" && chmod 600 "$tmp" && mv -f "$tmp" "$SESSION_FILE"; }; then
            rm -f "$tmp"
            exit 1
        fi
        umask "$old_umask"
    fi
    if check "$email" "$keychain" >/dev/null; then
        say "Done: the vault session works without a person at the keyboard. Tell the operator."
    else
        say "The session was stored but does not work; run: ~/.axe/bin/bw-bootstrap.sh --check $email"
        exit 1
    fi
}

keychain=no
case "${1:-}" in
    --check)
        [ $# -ge 2 ] || { say "usage: bw-bootstrap.sh --check EMAIL [--keychain]"; exit 2; }
        [ "${3:-}" = --keychain ] && keychain=yes
        check "$2" "$keychain"; exit $? ;;
    ""|-h|--help)
        say "usage: bw-bootstrap.sh VAULT_URL EMAIL [--keychain]    (once, at the keyboard)"
        say "       bw-bootstrap.sh --check EMAIL [--keychain]      (non-interactive)"
        exit 2 ;;
    *)
        [ $# -ge 2 ] || { say "usage: bw-bootstrap.sh VAULT_URL EMAIL [--keychain]"; exit 2; }
        [ "${3:-}" = --keychain ] && keychain=yes
        setup "$1" "$2" "$keychain" ;;
esac
