/** Draws a QR code of a text on a canvas (the `qrcode` package's matrix; no data: URL, so the CSP stays strict). */
import QRCode from 'qrcode';

export function drawQr(canvas: HTMLCanvasElement, text: string): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 4;
  const scale = Math.max(2, Math.floor(240 / (n + 2 * quiet)));
  const side = (n + 2 * quiet) * scale;
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = '#000000';
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (qr.modules.get(y, x)) ctx.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
}
