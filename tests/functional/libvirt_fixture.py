"""A private libvirt daemon running real QEMU guests (TCG), for tests.

Starts Debian's ``libvirtd`` in session mode (``qemu:///session``) with
every directory it uses (sockets, state, configuration, logs) in a
temporary directory, so it neither sees nor disturbs a system libvirt or
another test's. Run by root, the daemon and its QEMU processes run as
``nobody``: a session daemon must not be root, and root's client still
reaches its socket. Guests run under TCG (no KVM needed) and have no
cgroup, which is how libvirt runs guests in containers::

    daemon = self.useFixture(SessionLibvirt())
    connection = libvirt.open(daemon.uri)
    guest = Guest(daemon.base)             # kernel + busybox initramfs
    domain = connection.defineXML(guest.xml('burner', uuid, vcpus=2))
    domain.create()
    guest.console.wait_ready()
    guest.console.send('burn')             # every vCPU busy

The guest is Debian's kernel (``linux-image-amd64``, booted directly,
decompressed to its ELF image so that QEMU's PVH entry skips the boot
loader and the decompression, slow under TCG) with an initramfs the
fixture builds from ``busybox-static``: its ``/init`` answers commands on
the serial console (``ping``, ``burn``, ``idle``, ``poweroff``).

At cleanup every domain is destroyed and undefined, the daemon stopped,
and any process left with the temporary directory on its command line
killed: nothing keeps running.
"""

import glob
import lzma
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import fixtures

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.usage import agent

try:
    # The agent's loader: libvirt's own error lines go to the log, not
    # to stderr; the fixture says what failed.
    libvirt = agent.import_libvirt()
except exceptions.ConfigurationError:
    libvirt = None

LIBVIRTD = '/usr/sbin/libvirtd'
QEMU = '/usr/bin/qemu-system-x86_64'
BUSYBOX = '/bin/busybox'
CPIO = '/usr/bin/cpio'
KERNELS = '/boot/vmlinuz-*'
#: What bindep.txt installs for these tests.
PACKAGES = ('libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 '
            'linux-image-amd64 busybox-static cpio')
START_TIMEOUT = 30
#: The unprivileged user a root test runs the daemon as.
DAEMON_USER = 'nobody'

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
exec < /dev/ttyS0 > /dev/ttyS0 2>&1
stty -echo
echo READY
burners=
while read -r command; do
  case "$command" in
    ping) echo PONG ;;
    burn)
      for cpu in $(seq "$(nproc)"); do
        (while :; do :; done) &
        burners="$burners $!"
      done
      echo BURNING ;;
    idle) [ -n "$burners" ] && kill $burners; burners=; echo IDLE ;;
    poweroff) echo POWEROFF; poweroff -f ;;
  esac
done
"""

DOMAIN_XML = """<domain type='qemu'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>192</memory>
  <vcpu>%(vcpus)d</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <initrd>%(initrd)s</initrd>
    <cmdline>console=ttyS0 rdinit=/init quiet panic=-1</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='unix'>
      <source mode='bind' path='%(console)s'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
"""


class LibvirtFixtureError(Exception):
    """The daemon or the guest could not be set up; the text says why."""


def missing():
    """Return what is missing to run guests, or None."""
    needed = [LIBVIRTD, QEMU, BUSYBOX, CPIO]
    absent = [path for path in needed if not os.path.exists(path)]
    if not glob.glob(KERNELS):
        absent.append(KERNELS)
    if libvirt is None:
        absent.append('libvirt-python')
    if absent:
        return ('%s missing: apt-get install -y %s (they are in '
                'bindep.txt)' % (', '.join(absent), PACKAGES))
    return None


def qemu_unusable():
    """Return why this kernel cannot run QEMU at all, or None.

    Starts a machine-less TCG QEMU for a moment: a kernel that refuses
    what QEMU needs (its memory mappings, its threads, seccomp) makes it
    exit at once.
    """
    process = subprocess.Popen(
        [QEMU, '-machine', 'none', '-accel', 'tcg', '-nodefaults',
         '-display', 'none', '-S'],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 2
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait()
        process.stdout.close()
        return None
    output = process.stdout.read()
    process.stdout.close()
    return 'QEMU cannot run on this kernel (exit status %s): %s' % (
        process.returncode, output.decode(errors='replace').strip())


def _kernel_image(directory):
    """Return the path of the newest Debian kernel, as QEMU boots fastest.

    Debian compresses its kernels with xz: the ELF image inside boots
    through QEMU's PVH entry, with neither boot loader nor decompression
    under TCG. Another compression boots as it is.
    """
    kernel = sorted(glob.glob(KERNELS))[-1]
    with open(kernel, 'rb') as stream:
        image = stream.read()
    start = image.find(b'\xfd7zXZ\x00')
    if start < 0:
        return kernel
    try:
        elf = lzma.LZMADecompressor().decompress(image[start:])
    except lzma.LZMAError:
        return kernel
    path = os.path.join(directory, 'vmlinux')
    with open(path, 'wb') as stream:
        stream.write(elf)
    return path


def _initramfs(directory):
    """Build the busybox initramfs (newc cpio) and return its path."""
    tree = os.path.join(directory, 'initramfs')
    for sub in ('bin', 'proc', 'dev'):
        os.makedirs(os.path.join(tree, sub))
    shutil.copy(BUSYBOX, os.path.join(tree, 'bin', 'busybox'))
    with open(os.path.join(tree, 'init'), 'w') as stream:
        stream.write(INIT)
    os.chmod(os.path.join(tree, 'init'), 0o755)
    names = ['.', 'bin', 'bin/busybox', 'proc', 'dev', 'init']
    path = os.path.join(directory, 'initramfs.cpio')
    with open(path, 'wb') as output:
        subprocess.run([CPIO, '-o', '-H', 'newc', '--quiet'], cwd=tree,
                       input='\n'.join(names).encode(), stdout=output,
                       check=True)
    return path


class Console:
    """The guest's serial console, a unix socket QEMU listens on."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.received = b''

    def connect(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(self.path)
                return
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise LibvirtFixtureError(
                        'no guest console at %s' % self.path)
                time.sleep(0.05)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, command):
        self.sock.sendall(command.encode() + b'\n')

    def expect(self, marker, timeout=60, every=None, resend=None):
        """Wait until the guest wrote ``marker``; return all it wrote.

        :param resend: a command sent again every ``every`` seconds until
            then (a guest still booting drops what comes too early).
        """
        marker = marker.encode()
        deadline = time.monotonic() + timeout
        next_send = time.monotonic()
        while marker not in self.received:
            now = time.monotonic()
            if now > deadline:
                raise LibvirtFixtureError(
                    'the guest did not write %r in %d s; it wrote: %r'
                    % (marker, timeout, self.received[-2000:]))
            if resend and now >= next_send:
                self.send(resend)
                next_send = now + every
            self.sock.settimeout(0.2)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise LibvirtFixtureError('the guest console closed')
            self.received += chunk
        found = self.received
        self.received = b''
        return found

    def wait_ready(self, timeout=120):
        """Wait until the guest's ``/init`` answers."""
        self.expect('PONG', timeout=timeout, every=2, resend='ping')


class Guest:
    """A kernel, an initramfs and a console for one domain.

    :param directory: where they are written; readable by the daemon.
    """

    def __init__(self, directory, name='burner'):
        self.directory = os.path.join(directory, 'guest-%s' % name)
        os.makedirs(self.directory)
        self.kernel = _kernel_image(self.directory)
        self.initrd = _initramfs(self.directory)
        self.console = Console(os.path.join(self.directory, 'console.sock'))
        _give_away(self.directory)

    def xml(self, name, uuid, vcpus=2):
        return DOMAIN_XML % {'name': name, 'uuid': uuid, 'vcpus': vcpus,
                             'kernel': self.kernel, 'initrd': self.initrd,
                             'console': self.console.path}


def _daemon_user():
    """Return ``(uid, gid)`` the daemon runs as: ``nobody`` for root."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    entry = pwd.getpwnam(DAEMON_USER)
    return entry.pw_uid, entry.pw_gid


def _give_away(path):
    uid, gid = _daemon_user()
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.chown(name, uid, gid)


class SessionLibvirt(fixtures.Fixture):
    """``libvirtd`` in session mode, private to one test.

    :ivar uri: the connection URI of its socket.
    :ivar base: its temporary directory (guests' files go there too).
    """

    def _setUp(self):
        reason = missing()
        if reason:
            raise LibvirtFixtureError(reason)
        self.base = tempfile.mkdtemp(prefix='stratuslab-libvirt-')
        os.chmod(self.base, 0o755)
        self.addCleanup(shutil.rmtree, self.base, ignore_errors=True)
        self.addCleanup(self._kill_leftovers)
        self.env = self._environment()
        self.socket = os.path.join(self.env['XDG_RUNTIME_DIR'], 'libvirt',
                                   'libvirt-sock')
        self.uri = 'qemu:///session?socket=%s' % self.socket
        self.process = None
        self.addCleanup(self.stop)
        self.addCleanup(self._destroy_domains)
        self.start()

    def _environment(self):
        env = {'PATH': os.environ.get('PATH', '/usr/sbin:/usr/bin:/bin'),
               'HOME': self.base, 'LANG': 'C'}
        for variable in ('XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME',
                         'XDG_CACHE_HOME', 'XDG_DATA_HOME'):
            path = os.path.join(self.base, variable.split('_')[1].lower())
            os.makedirs(path, mode=0o700)
            env[variable] = path
        config = os.path.join(env['XDG_CONFIG_HOME'], 'libvirt')
        os.makedirs(config)
        # QEMU's output to files, not through virtlogd (one daemon less).
        with open(os.path.join(config, 'qemu.conf'), 'w') as stream:
            stream.write('stdio_handler = "file"\n')
        _give_away(self.base)
        return env

    def start(self):
        """Start the daemon and wait until it answers."""
        uid, gid = _daemon_user()
        log = open(os.path.join(self.base, 'libvirtd.log'), 'ab')
        self.process = subprocess.Popen(
            [LIBVIRTD], env=self.env, user=uid, group=gid,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise LibvirtFixtureError(
                    'libvirtd exited with status %s: %s' % (
                        self.process.returncode, self._log_tail()))
            try:
                libvirt.open(self.uri).close()
                return
            except libvirt.libvirtError:
                if time.monotonic() > deadline:
                    raise LibvirtFixtureError(
                        'libvirtd did not answer in %d s: %s' % (
                            START_TIMEOUT, self._log_tail()))
                time.sleep(0.1)

    def stop(self):
        """Stop the daemon (its running guests keep running)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def restart(self):
        self.stop()
        self.start()

    def _log_tail(self):
        with open(os.path.join(self.base, 'libvirtd.log'), 'rb') as log:
            return log.read()[-2000:].decode(errors='replace')

    def _destroy_domains(self):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            connection = libvirt.open(self.uri)
        except libvirt.libvirtError:
            return
        try:
            for domain in connection.listAllDomains():
                if domain.isActive():
                    domain.destroy()
                if domain.isPersistent():
                    domain.undefine()
        finally:
            connection.close()

    def _kill_leftovers(self):
        """Kill any process still naming the temporary directory."""
        needle = self.base.encode()
        for pid in filter(str.isdigit, os.listdir('/proc')):
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as stream:
                    if needle not in stream.read():
                        continue
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue
