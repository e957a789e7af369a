#!/bin/bash
#
# devstack/plugin.sh - the DevStack plugin of esi-agent.
# DevStack sources it as ``plugin.sh <mode> [<phase>]`` from stack.sh,
# unstack.sh and clean.sh, after devstack/settings.

# shellcheck source=devstack/lib/esi-agent
source "$(dirname "${BASH_SOURCE[0]}")/lib/esi-agent"

if is_service_enabled esi-agent; then

    if [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
        echo_summary "Checking esi-agent prerequisites"
        check_esi_agent_prerequisites

    elif [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing esi-agent"
        install_esi_agent

    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring esi-agent"
        create_esi_agent_accounts
        configure_esi_agent

    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        if [[ "$ESI_AGENT_PUBLISH_TEMPLATES" == "True" ]]; then
            echo_summary "Publishing the esi-agent templates to etcd"
            publish_esi_agent_templates
        fi
        echo_summary "Starting esi-agent"
        start_esi_agent
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_esi_agent
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_esi_agent
    fi
fi
