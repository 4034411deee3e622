# bash completion for vmctl and vm-install (installed as
# share/bash-completion/completions/vmctl, and vm-install beside it).
#
# vmctl completes itself: "vmctl complete -- WORDS..." prints the
# candidates for the last word (command names, options, domain names from
# the daemon that -c names). Where it offers nothing, bash completes file
# names (-o default), as for define's and create's FILE.

_vmctl_complete()
{
    local IFS=$'\n'
    local words=("${COMP_WORDS[@]:1:COMP_CWORD}")

    COMPREPLY=($("${COMP_WORDS[0]}" complete -- "${words[@]}" 2>/dev/null))
}

_vm_install_complete()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]}

    case $prev in
    --kernel | --initrd)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --network)
        COMPREPLY=($(compgen -W "tap bridge= none" -- "$cur"))
        return
        ;;
    --disk)
        COMPREPLY=($(compgen -W "path=" -- "$cur"))
        return
        ;;
    -c | --connect | --name | --memory | --vcpus | --cmdline)
        return
        ;;
    esac
    COMPREPLY=($(compgen -W "--name --memory --vcpus --kernel --initrd --cmdline --disk
        --network --rng --autostart --print-xml --noautoconsole --connect --help --version" \
        -- "$cur"))
}

complete -o default -F _vmctl_complete vmctl
complete -o default -F _vm_install_complete vm-install
