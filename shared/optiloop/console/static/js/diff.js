// A side-by-side line diff of two texts (longest common subsequence). The API's diff endpoint says
// whether the versions differ and gives the unified diff of body, variables and defaults; the
// side-by-side view is built here from the two bodies, line by line.

/** [{op: "same"|"del"|"add", a?: line, b?: line, ai?, bi?}] from texts a and b. */
export function lineDiff(a, b) {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) out.push({ op: "same", a: x[i], b: y[j], ai: ++i, bi: ++j });
    // removals before additions, so a changed line pairs with its replacement
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) out.push({ op: "del", a: x[i], ai: ++i });
    else out.push({ op: "add", b: y[j], bi: ++j });
  }
  return out;
}

/** Rows for two aligned columns: a run of deletions is paired with the additions that follow it. */
export function sideBySide(ops) {
  const rows = [];
  for (let k = 0; k < ops.length; ) {
    if (ops[k].op === "same") {
      rows.push([ops[k], ops[k]]);
      k++;
      continue;
    }
    const dels = [];
    const adds = [];
    while (k < ops.length && ops[k].op === "del") dels.push(ops[k++]);
    while (k < ops.length && ops[k].op === "add") adds.push(ops[k++]);
    for (let r = 0; r < Math.max(dels.length, adds.length); r++) rows.push([dels[r] || null, adds[r] || null]);
  }
  return rows;
}
