/** `--list models|gpus|datasets`: the catalogs as plain tables. */
import { DATASETS, FUN_MODELS, GPUS, MODELS } from "../data.ts";
import { paramCount } from "../engine/arch.ts";
import { compactCount } from "../render/format.ts";
import type { ListName } from "./show_config.ts";

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

export function renderList(name: ListName): string {
  switch (name) {
    case "models": {
      const rows = MODELS.map((m) => {
        const a = m.arch;
        return [
          m.id,
          m.name,
          compactCount(paramCount(a).total),
          String(a.layers),
          String(a.hidden),
          `${a.heads}/${a.kvHeads}`,
          String(a.ffn) + (a.moe ? ` ×${a.moe.experts}` : ""),
          String(a.vocab),
          String(a.context),
          m.aliases.join(" "),
        ];
      });
      const fun = FUN_MODELS.map((f) => `  ${f.name} → ${f.base}`).join("\n");
      return table(
        [
          "id",
          "name",
          "params",
          "layers",
          "hidden",
          "heads/kv",
          "ffn",
          "vocab",
          "context",
          "aliases",
        ],
        rows,
      ) + `\nAlso accepted (same architecture as the model named):\n${fun}\n`;
    }
    case "gpus":
      return table(
        [
          "id",
          "name",
          "memory",
          "bf16 TFLOP/s",
          "fp8 TFLOP/s",
          "HBM GB/s",
          "TDP",
          "NVLink GB/s",
          "aliases",
        ],
        GPUS.map((g) => [
          g.id,
          g.name,
          `${g.memoryGB} GB`,
          g.peakTflops.bf16 === null ? `— (fp16 ${g.peakTflops.fp16})` : String(g.peakTflops.bf16),
          g.peakTflops.fp8 === null ? "—" : String(g.peakTflops.fp8),
          String(g.memBandwidthGBps),
          `${g.tdpW} W`,
          g.nvlinkGBps > 0 ? String(g.nvlinkGBps) : "—",
          g.aliases.join(" "),
        ]),
      );
    case "datasets":
      return table(
        ["id", "name", "kind", "tokens", "examples"],
        DATASETS.map((d) => [
          d.id,
          d.name,
          d.kind + (d.fun ? " (fun)" : ""),
          compactCount(d.tokens),
          d.examples === undefined ? "" : compactCount(d.examples),
        ]),
      );
  }
}
