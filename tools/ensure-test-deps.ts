/**
 * Makes sure the system programs the tests need are present: Debian's Chromium (Playwright cannot download its
 * own browser here), ffmpeg (fixture videos, the RTSP relay) and GStreamer's RTSP server (the test camera). As
 * root it installs them with apt-get; otherwise it says what to install and exits non-zero.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const MULTIARCH = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
const NEEDED = [
  { program: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', pkg: 'chromium' },
  { program: '/usr/bin/ffmpeg', pkg: 'ffmpeg' },
  // The RTSP test camera (tests/fixtures/rtsp-camera.py): GStreamer's RTSP server through Python.
  { program: '/usr/lib/python3/dist-packages/gi/__init__.py', pkg: 'python3-gi' },
  { program: `${MULTIARCH}/girepository-1.0/GstRtspServer-1.0.typelib`, pkg: 'gir1.2-gst-rtsp-server-1.0' },
  { program: `${MULTIARCH}/gstreamer-1.0/libgstrtp.so`, pkg: 'gstreamer1.0-plugins-good' },
  { program: `${MULTIARCH}/gstreamer-1.0/libgstvideoparsersbad.so`, pkg: 'gstreamer1.0-plugins-bad' },
];

const missing = NEEDED.filter((n) => !existsSync(n.program));
if (missing.length > 0) {
  const packages = missing.map((m) => m.pkg);
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('which', ['apt-get']).status === 0;
  if (!isRoot || !hasApt) {
    console.error(
      `The tests need ${missing.map((m) => m.program).join(' and ')}.\n` +
        (hasApt ? `Install them with: sudo apt-get install -y ${packages.join(' ')}\n` : `Install ${packages.join(' and ')} with your package manager,\n`) +
        'or point CHROMIUM_PATH at another Chromium build.',
    );
    process.exit(1);
  }
  console.log(`installing ${packages.join(', ')} from Debian…`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
console.log(`test dependencies present: ${NEEDED.map((n) => n.program).join(', ')}`);
