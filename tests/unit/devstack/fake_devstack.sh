#!/bin/bash
# Stand-ins for the devstack helpers plugin.sh calls. Every call is
# recorded in $FAKE_DEVSTACK_LOG; ini files are kept as JSON by
# fake_ini.py so that multi-valued options (iniadd) are seen as devstack
# writes them. Sourced by tests/unit/devstack/test_plugin.py.

function _record { echo "$*" >> "$FAKE_DEVSTACK_LOG"; }
function _ini { python3 "$FAKE_DEVSTACK_DIR/fake_ini.py" "$@"; }

function iniset { _ini set "$@"; }
function iniadd { _ini add "$@"; }
function iniget { _ini get "$@"; }
function iniget_multiline { _ini getall "$@"; }

function define_plugin { _record define_plugin "$@"; }
function plugin_requires { _record plugin_requires "$@"; }
function enable_service { ENABLED_SERVICES="$ENABLED_SERVICES,$*"; }
function is_service_enabled {
    local service
    for service in "$@"; do
        [[ ",$ENABLED_SERVICES," == *",$service,"* ]] && return 0
    done
    return 1
}
function echo_summary { :; }
function setup_develop { _record setup_develop "$@"; }
function install_package { _record install_package "$@"; }
function run_process { _record run_process "$@"; }
function stop_process { _record stop_process "$@"; }
function openstack { _record openstack "$@"; }
function get_notification_url { echo "rabbit://stackrabbit:secret@127.0.0.1:5672/"; }
# devstack's lib/database, for DATABASE_TYPE mysql or postgresql: the URLs
# its lib/databases/* write (PyMySQL is devstack's MySQL driver).
function recreate_database { _record recreate_database "$@"; }
function database_connection_url {
    case "$DATABASE_TYPE" in
        mysql) echo "mysql+pymysql://root:secret@127.0.0.1/$1?charset=utf8" ;;
        postgresql) echo "postgresql://root:secret@127.0.0.1/$1?client_encoding=utf8" ;;
    esac
}
function configure_keystone_authtoken_middleware { _record configure_keystone_authtoken_middleware "$@"; }
function create_service_user { _record create_service_user "$@"; }
function get_or_create_role { _record get_or_create_role "$@"; }
function get_or_create_service { _record get_or_create_service "$@"; }
function get_or_create_endpoint { _record get_or_create_endpoint "$@"; }
function sudo { "$@"; }
function which { echo "/usr/local/bin/$1"; }
function hostname { echo devstack-host; }
