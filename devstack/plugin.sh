#!/bin/bash
# devstack plugin for stratuslab-plugins: one line in local.conf,
#     enable_plugin stratuslab https://example.org/stratuslab-plugins
# makes an all-in-one grid site: grid-aware scheduling in nova.conf, an
# `appliance` Glance store over a local OCI registry, the accounting
# listener with a periodic APEL publish, the usage API and the Horizon
# panels. doc/devstack.rst has a complete local.conf; devstack/settings
# lists every knob.

STRATUSLAB_NOVA_DEFAULT_FILTERS="ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter"
STRATUSLAB_NOVA_ALL_FILTERS=nova.scheduler.filters.all_filters
STRATUSLAB_NOVA_ALL_WEIGHERS=nova.scheduler.weights.all_weighers

# Append each comma-separated item of $4 to the list option $3 of section
# $2 in file $1, skipping items already there; $5 is the option's default
# when the file does not set it.
function stratuslab_append_to_list {
    local file=$1 section=$2 option=$3 additions=$4 default=${5:-}
    local current item
    current=$(iniget "$file" "$section" "$option")
    current=${current:-$default}
    for item in ${additions//,/ }; do
        if [[ ",$current," != *",$item,"* ]]; then
            current=${current:+$current,}$item
        fi
    done
    iniset "$file" "$section" "$option" "$current"
}

# Add value $4 to the multi-valued option $3 of section $2 in file $1,
# unless it is there already.
function stratuslab_add_multi_value {
    local file=$1 section=$2 option=$3 value=$4
    if ! iniget_multiline "$file" "$section" "$option" | grep -qxF -- "$value"; then
        iniadd "$file" "$section" "$option" "$value"
    fi
}

function install_stratuslab {
    if is_service_enabled n-cpu && [[ "$STRATUSLAB_ENABLE_LIBVIRT_AGENT" == "True" ]]; then
        install_package libvirt-dev pkg-config
        setup_develop "$STRATUSLAB_DIR" libvirt
    else
        setup_develop "$STRATUSLAB_DIR"
    fi
    if [[ "$STRATUSLAB_ENABLE_APPLIANCE_STORE" == "True" ]]; then
        install_package docker-registry
    fi
}

function create_stratuslab_dirs {
    sudo install -d -o "$STACK_USER" "$STRATUSLAB_CONF_DIR" "$STRATUSLAB_DATA_DIR"
}

# The sample VO map: the demo project runs the first VO, alt_demo the second.
function configure_stratuslab_vo_map {
    local vos first second
    IFS=, read -r -a vos <<< "$STRATUSLAB_VOS"
    first=${vos[0]}
    second=${vos[1]:-${vos[0]}}
    cat > "$STRATUSLAB_CONF_DIR/vo-map.yaml" <<MAP
# VO -> projects, read by the scheduler filters and the accounting.
$first: [demo]
$second: [alt_demo]
MAP
}

# Credentials our code reads Keystone with, in section $2 of file $1:
# devstack's admin, since devstack is a test site (README.rst lists the
# least-privilege roles a production site gives instead).
function configure_stratuslab_keystone_credentials {
    local file=$1 section=$2
    iniset "$file" "$section" auth_type password
    iniset "$file" "$section" auth_url "$KEYSTONE_SERVICE_URI"
    iniset "$file" "$section" username admin
    iniset "$file" "$section" password "$ADMIN_PASSWORD"
    iniset "$file" "$section" project_name admin
    iniset "$file" "$section" user_domain_id default
    iniset "$file" "$section" project_domain_id default
}

# The site name and the VO map: the Keystone property (read with the
# [grid_keystone] credentials) and the mapping file.
function configure_stratuslab_grid_options {
    local file=$1
    iniset "$file" grid site_name "$STRATUSLAB_SITE_NAME"
    iniset "$file" grid vo_mapping_file "$STRATUSLAB_CONF_DIR/vo-map.yaml"
    configure_stratuslab_keystone_credentials "$file" grid_keystone
}

function configure_stratuslab_nova {
    stratuslab_add_multi_value "$NOVA_CONF" filter_scheduler available_filters "$STRATUSLAB_NOVA_ALL_FILTERS"
    stratuslab_add_multi_value "$NOVA_CONF" filter_scheduler available_filters "$STRATUSLAB_FILTERS_IMPORT"
    stratuslab_append_to_list "$NOVA_CONF" filter_scheduler enabled_filters "$STRATUSLAB_FILTERS" "$STRATUSLAB_NOVA_DEFAULT_FILTERS"
    stratuslab_append_to_list "$NOVA_CONF" filter_scheduler weight_classes "$STRATUSLAB_WEIGHERS_IMPORT" "$STRATUSLAB_NOVA_ALL_WEIGHERS"
    configure_stratuslab_grid_options "$NOVA_CONF"
}

# Exact usage needs Nova's versioned notifications and the usage audit.
function configure_stratuslab_nova_notifications {
    local format=versioned
    if is_service_enabled ceilometer; then
        format=both
    fi
    iniset "$NOVA_CONF" notifications notification_format "$format"
    iniset "$NOVA_CONF" oslo_messaging_notifications driver messagingv2
    iniset "$NOVA_CONF" DEFAULT instance_usage_audit True
    iniset "$NOVA_CONF" DEFAULT instance_usage_audit_period hour
}

function configure_stratuslab_registry {
    cat > "$STRATUSLAB_CONF_DIR/registry.yml" <<REGISTRY
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $STRATUSLAB_DATA_DIR/registry
  delete:
    enabled: true
http:
  addr: $STRATUSLAB_REGISTRY_HOST:$STRATUSLAB_REGISTRY_PORT
REGISTRY
}

# Glance multi-store: keep the backends devstack configured and add ours.
# Single-store devstacks are moved to multi-store with a `file` backend,
# since only multi-store accepts an out-of-tree driver.
function configure_stratuslab_glance {
    local backends backend=$STRATUSLAB_GLANCE_BACKEND
    backends=$(iniget "$GLANCE_API_CONF" DEFAULT enabled_backends)
    if [[ -z "$backends" ]]; then
        iniset "$GLANCE_API_CONF" DEFAULT enabled_backends "file:file"
        iniset "$GLANCE_API_CONF" glance_store default_backend file
        iniset "$GLANCE_API_CONF" file filesystem_store_datadir "$GLANCE_IMAGE_DIR"
        iniset "$GLANCE_API_CONF" os_glance_staging_store filesystem_store_datadir "$GLANCE_STAGING_DIR"
        iniset "$GLANCE_API_CONF" os_glance_tasks_store filesystem_store_datadir "$GLANCE_TASKS_DIR"
    fi
    stratuslab_append_to_list "$GLANCE_API_CONF" DEFAULT enabled_backends "$backend:appliance"
    iniset "$GLANCE_API_CONF" "$backend" appliance_registry_url "http://$STRATUSLAB_REGISTRY_HOST:$STRATUSLAB_REGISTRY_PORT"
    iniset "$GLANCE_API_CONF" "$backend" appliance_repository "$STRATUSLAB_REGISTRY_REPOSITORY"
    iniset "$GLANCE_API_CONF" "$backend" store_description "Appliance repository (OCI registry)"
    iniset "$GLANCE_API_CONF" DEFAULT do_secure_hash "$STRATUSLAB_GLANCE_DO_SECURE_HASH"
}

# The ledger's URL: the one given, else a database of devstack's own
# server (DATABASE_TYPE is set by devstack's lib/database when mysql or
# postgresql is enabled), else a SQLite file.
function configure_stratuslab_ledger {
    if [[ -n "$STRATUSLAB_LEDGER_URL" ]]; then
        return
    fi
    if [[ -n "${DATABASE_TYPE:-}" ]]; then
        recreate_database "$STRATUSLAB_DATABASE"
        STRATUSLAB_LEDGER_URL=$(database_connection_url "$STRATUSLAB_DATABASE")
    else
        STRATUSLAB_LEDGER_URL=sqlite:///$STRATUSLAB_DATA_DIR/accounting.sqlite
    fi
}

# One file for the publish run, the listener and the libvirt agent: they
# share the ledger.
function configure_stratuslab_accounting {
    local file=$STRATUSLAB_CONF_DIR/accounting.conf
    configure_stratuslab_grid_options "$file"
    iniset "$file" oslo_messaging_notifications transport_url "$(get_notification_url)"
    iniset "$file" accounting ledger_connection "$STRATUSLAB_LEDGER_URL"
    iniset "$file" accounting messengers ssm
    iniset "$file" accounting_ssm output_path "$STRATUSLAB_OUTGOING_DIR"
    configure_stratuslab_keystone_credentials "$file" accounting_keystone
}

# The usage API reads the ledger and the queue the accounting writes,
# checks tokens with keystonemiddleware as its own service user, and is
# registered in the catalog (Horizon and `openstack accounting` look for
# service type `accounting`). A `vo_manager` role lets a VO manager see
# his VO's projects.
function configure_stratuslab_usage_api {
    local file=$STRATUSLAB_CONF_DIR/api.conf
    configure_stratuslab_grid_options "$file"
    iniset "$file" accounting ledger_connection "$STRATUSLAB_LEDGER_URL"
    iniset "$file" accounting_ssm output_path "$STRATUSLAB_OUTGOING_DIR"
    iniset "$file" accounting_api bind_host "$STRATUSLAB_API_HOST"
    iniset "$file" accounting_api bind_port "$STRATUSLAB_API_PORT"
    create_service_user stratuslab
    configure_keystone_authtoken_middleware "$file" stratuslab
    get_or_create_role vo_manager
    get_or_create_service stratuslab-accounting accounting "Grid usage by VO (stratuslab-plugins)"
    get_or_create_endpoint accounting "$REGION_NAME" "http://$STRATUSLAB_API_HOST:$STRATUSLAB_API_PORT"
}

# Horizon loads the panels from its local/enabled directory; devstack's
# init_horizon, after this phase, collects their static files.
function configure_stratuslab_dashboard {
    cp "$STRATUSLAB_DIR"/stratuslab_plugins/dashboard/enabled/_[0-9]*.py "$STRATUSLAB_HORIZON_ENABLED_DIR/"
}

function configure_stratuslab {
    create_stratuslab_dirs
    configure_stratuslab_vo_map
    if [[ "$STRATUSLAB_ENABLE_SCHEDULER" == "True" ]]; then
        configure_stratuslab_nova
    fi
    if [[ "$STRATUSLAB_ENABLE_APPLIANCE_STORE" == "True" ]]; then
        configure_stratuslab_registry
        configure_stratuslab_glance
    fi
    if [[ "$STRATUSLAB_ENABLE_ACCOUNTING" == "True" || "$STRATUSLAB_ENABLE_USAGE_API" == "True" ]]; then
        configure_stratuslab_ledger
    fi
    if [[ "$STRATUSLAB_ENABLE_ACCOUNTING" == "True" ]]; then
        configure_stratuslab_nova_notifications
        configure_stratuslab_accounting
    fi
    if [[ "$STRATUSLAB_ENABLE_USAGE_API" == "True" ]]; then
        configure_stratuslab_usage_api
    fi
    if is_service_enabled horizon && [[ "$STRATUSLAB_ENABLE_DASHBOARD" == "True" ]]; then
        configure_stratuslab_dashboard
    fi
}

function install_stratuslab_publish_timer {
    local command="stratuslab-accounting --config-file $STRATUSLAB_CONF_DIR/accounting.conf publish"
    echo "$STRATUSLAB_PUBLISH_SCHEDULE $STACK_USER $command" | sudo tee "$STRATUSLAB_CRON_FILE" > /dev/null
}

function start_stratuslab {
    if [[ "$STRATUSLAB_ENABLE_APPLIANCE_STORE" == "True" ]]; then
        run_process sl-registry "/usr/bin/docker-registry serve $STRATUSLAB_CONF_DIR/registry.yml"
    fi
    if [[ "$STRATUSLAB_ENABLE_ACCOUNTING" == "True" ]]; then
        run_process sl-acct-listener "$(which stratuslab-accounting-listener) --config-file $STRATUSLAB_CONF_DIR/accounting.conf"
        install_stratuslab_publish_timer
    fi
    if [[ "$STRATUSLAB_ENABLE_USAGE_API" == "True" ]]; then
        run_process sl-acct-api "$(which stratuslab-accounting-api) --config-file $STRATUSLAB_CONF_DIR/api.conf"
    fi
    if is_service_enabled n-cpu && [[ "$STRATUSLAB_ENABLE_LIBVIRT_AGENT" == "True" ]]; then
        run_process sl-libvirt-agent "$(which stratuslab-accounting-libvirt-agent) --config-file $STRATUSLAB_CONF_DIR/accounting.conf"
    fi
}

# Two VOs' worth of sample aggregates and flavors on this host.
function create_stratuslab_samples {
    local vo host
    host=$(hostname)
    for vo in ${STRATUSLAB_VOS//,/ }; do
        openstack --os-cloud devstack-admin aggregate create --property "grid_vos=$vo" "grid-$vo"
        openstack --os-cloud devstack-admin aggregate add host "grid-$vo" "$host"
        openstack --os-cloud devstack-admin flavor create --ram 512 --disk 1 --vcpus 1 \
            --property "grid:vo=$vo" --property "grid:max_lifetime=86400" "grid.$vo.small"
    done
}

function stop_stratuslab {
    local service
    for service in sl-registry sl-acct-listener sl-acct-api sl-libvirt-agent; do
        stop_process "$service"
    done
}

function cleanup_stratuslab {
    sudo rm -f "$STRATUSLAB_CRON_FILE" "$STRATUSLAB_HORIZON_ENABLED_DIR"/_[0-9]*_stratuslab*.py
    sudo rm -rf "$STRATUSLAB_CONF_DIR" "$STRATUSLAB_DATA_DIR"
}

if [[ "$1" == "stack" ]]; then
    case "$2" in
        install)
            echo_summary "Installing stratuslab-plugins"
            install_stratuslab
            ;;
        post-config)
            echo_summary "Configuring stratuslab-plugins"
            configure_stratuslab
            ;;
        extra)
            echo_summary "Starting stratuslab-plugins services"
            start_stratuslab
            if [[ "$STRATUSLAB_CREATE_SAMPLES" == "True" ]]; then
                create_stratuslab_samples
            fi
            ;;
    esac
fi

if [[ "$1" == "unstack" ]]; then
    stop_stratuslab
fi

if [[ "$1" == "clean" ]]; then
    cleanup_stratuslab
fi
