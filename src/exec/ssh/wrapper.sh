# git-coord SSH runner: the remote side of one attempt (POSIX sh).
# Arguments: TOKEN PROMPT_BYTES GRACE_SECONDS COMMAND. The task text never
# appears here: it arrives as the first PROMPT_BYTES bytes of stdin.
# sshd starts the session command as a process-group (session) leader, so
# everything below, the task included, is in this group and `kill 0`
# reaches all of it.
tok=$1 n=$2 grace=$3
kill -0 -"$$" 2>/dev/null || { echo "git-coord-ssh $tok: not a process group leader, refusing to start" >&2; exit 125; }
# This shell and the watcher survive the TERM they send to the group.
trap '' TERM PIPE
d=$(mktemp -d "${TMPDIR:-/tmp}/git-coord.XXXXXXXX") || exit 125
dd bs=1 count="$n" of="$d/prompt" 2>/dev/null
COORD_PROMPT_FILE=$d/prompt
export COORD_PROMPT_FILE
echo "git-coord-ssh $tok started $$" >&2
# The watcher: stdin stays open while the client wants the task. A `term`
# line (timeout, first Ctrl-C) sends SIGTERM to the group, a `kill` line
# (grace over, second Ctrl-C) SIGKILL. End of stdin without them (the
# client or its connection gone) means SIGTERM, the grace period, SIGKILL.
exec 3<&0
{
    while read -r x <&3; do
        case $x in
            term) kill -TERM 0 ;;
            kill) rm -rf "$d"; kill -KILL 0 ;;
        esac
    done
    kill -TERM 0
    sleep "$grace"
    rm -rf "$d"
    kill -KILL 0
} </dev/null >/dev/null 2>&1 &
(trap - TERM PIPE; exec sh -c "$4" <"$d/prompt" 3<&-) &
wait "$!"
rc=$?
rm -rf "$d"
echo "git-coord-ssh $tok exit $rc" >&2
# Whatever the task left behind (and the watcher) ends with it.
kill -KILL 0
