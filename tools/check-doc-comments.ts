/**
 * `npm run check:docs`: every public export of framewise has a doc comment.
 *
 * "Public" is everything reachable from `src/index.ts`: each export (followed through re-exports) and the public
 * members (properties, methods, accessors, enum members, constructor parameter properties) of exported classes,
 * interfaces and object types, since that is where units, defaults, ownership and what
 * `terminate()`/`dispose()`/`close()` release are written. Members inherited from the DOM or a dependency are not
 * ours and are skipped, and so are `override`s (documented where first declared).
 *
 * Prints one line per offender (`file:line  Name.member  (kind)`) and exits 1 when there is any.
 * - `--exports-only`: the exports, not their members.
 * - `--strict`: also the members of object types written inline on a member (`tiles?: { sources: number; … }`),
 *   which are otherwise taken as described by their parent's comment (typedoc's `validation.notDocumented` level).
 * - `--json`: the offenders as JSON.
 */
import { relative, resolve } from 'node:path';
import ts from 'typescript';

interface Offender {
  file: string;
  line: number;
  name: string;
  kind: string;
}

const root = resolve(import.meta.dirname, '..');
const srcDir = resolve(root, 'src');
const entry = resolve(srcDir, 'index.ts');
const exportsOnly = process.argv.includes('--exports-only');
const strict = process.argv.includes('--strict');
const asJson = process.argv.includes('--json');

function loadProgram(): ts.Program {
  const configPath = resolve(root, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  return ts.createProgram({ rootNames: [entry], options: { ...parsed.options, noEmit: true } });
}

const program = loadProgram();
const checker = program.getTypeChecker();
const offenders: Offender[] = [];
const seen = new Set<ts.Node>();

function isOurs(decl: ts.Declaration): boolean {
  const file = decl.getSourceFile().fileName;
  return resolve(file).startsWith(srcDir + '/');
}

function kindOf(decl: ts.Declaration): string {
  const kind = ts.SyntaxKind[decl.kind];
  return kind.replace(/Declaration$|Signature$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** The node a doc comment is attached to: a variable's statement, the declaration itself otherwise. */
function docHost(decl: ts.Declaration): ts.Node {
  if (ts.isVariableDeclaration(decl) && decl.parent && ts.isVariableDeclarationList(decl.parent) && ts.isVariableStatement(decl.parent.parent)) {
    return decl.parent.parent;
  }
  return decl;
}

/**
 * True when the declaration carries a `/** … *\/` comment with text (a summary or at least one tag). A constructor
 * parameter property is also documented by a `@param` line of its constructor's comment.
 */
function hasDocComment(decl: ts.Declaration): boolean {
  if (ts.isParameter(decl) && ts.getJSDocParameterTags(decl).some((tag) => (ts.getTextOfJSDocComment(tag.comment)?.trim().length ?? 0) > 0)) return true;
  const host = docHost(decl);
  const docs = ts.getJSDocCommentsAndTags(host).filter((d): d is ts.JSDoc => ts.isJSDoc(d));
  return docs.some((doc) => {
    const comment = typeof doc.comment === 'string' ? doc.comment : ts.getTextOfJSDocComment(doc.comment);
    return (comment?.trim().length ?? 0) > 0 || (doc.tags?.length ?? 0) > 0;
  });
}

function report(decl: ts.Declaration, name: string): void {
  if (seen.has(decl)) return;
  seen.add(decl);
  const sf = decl.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(decl.getStart(sf));
  offenders.push({ file: relative(root, sf.fileName), line: line + 1, name, kind: kindOf(decl) });
}

/** Public and not an `override` (an override, such as an Error's `name`, is documented where it is declared first). */
function isPublicMember(decl: ts.Declaration): boolean {
  if (!ts.canHaveModifiers(decl)) return true;
  const flags = ts.getCombinedModifierFlags(decl);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected | ts.ModifierFlags.Override)) return false;
  const name = ts.getNameOfDeclaration(decl);
  return !(name && ts.isPrivateIdentifier(name));
}

/** Members that the export defines itself (in src/), public, with or without docs. */
function checkMembers(exportName: string, symbol: ts.Symbol, decl: ts.Declaration): void {
  const members: ts.Symbol[] = [];
  if (ts.isClassDeclaration(decl)) {
    const instance = checker.getDeclaredTypeOfSymbol(symbol);
    const statics = checker.getTypeOfSymbolAtLocation(symbol, decl);
    members.push(...instance.getProperties(), ...statics.getProperties().filter((p) => p.getName() !== 'prototype'));
  } else if (ts.isInterfaceDeclaration(decl)) {
    members.push(...checker.getDeclaredTypeOfSymbol(symbol).getProperties());
  } else if (ts.isEnumDeclaration(decl)) {
    members.push(...decl.members.map((m) => checker.getSymbolAtLocation(m.name)).filter((s): s is ts.Symbol => s !== undefined));
  } else if (ts.isTypeAliasDeclaration(decl)) {
    // Object types written out (`type X = { … }` or intersections of them); unions and aliases of other types are checked where those are declared.
    const node = decl.type;
    const literalParts = ts.isTypeLiteralNode(node) ? [node] : ts.isIntersectionTypeNode(node) ? node.types.filter(ts.isTypeLiteralNode) : [];
    for (const part of literalParts) {
      for (const m of part.members) {
        const s = m.name ? checker.getSymbolAtLocation(m.name) : undefined;
        if (s) members.push(s);
      }
    }
  }
  for (const member of members) {
    for (const d of member.getDeclarations() ?? []) {
      if (!isOurs(d) || !isPublicMember(d)) continue;
      if (ts.isParameter(d) && !ts.isParameterPropertyDeclaration(d, d.parent)) continue;
      const memberName = ts.getNameOfDeclaration(d)?.getText() ?? member.getName();
      if (!hasDocComment(d)) report(d, `${exportName}.${memberName}`);
      if (strict) checkInlineMembers(`${exportName}.${memberName}`, d);
    }
  }
}

/** Members of an object type written inline on a property (`image: { width: number; … }`), recursively. */
function checkInlineMembers(path: string, decl: ts.Declaration): void {
  const typeNode = ts.isPropertySignature(decl) || ts.isPropertyDeclaration(decl) || ts.isParameter(decl) ? decl.type : undefined;
  if (!typeNode) return;
  const literals: ts.TypeLiteralNode[] = [];
  const collect = (node: ts.TypeNode): void => {
    if (ts.isTypeLiteralNode(node)) literals.push(node);
    else if (ts.isUnionTypeNode(node) || ts.isIntersectionTypeNode(node)) node.types.forEach(collect);
    else if (ts.isParenthesizedTypeNode(node)) collect(node.type);
    else if (ts.isArrayTypeNode(node)) collect(node.elementType);
  };
  collect(typeNode);
  for (const literal of literals) {
    for (const m of literal.members) {
      if (!(ts.isPropertySignature(m) || ts.isMethodSignature(m))) continue;
      const name = `${path}.${m.name.getText()}`;
      if (!hasDocComment(m)) report(m, name);
      checkInlineMembers(name, m);
    }
  }
}

const entryFile = program.getSourceFile(entry);
if (!entryFile) throw new Error(`${entry} is not in the program`);
const moduleSymbol = checker.getSymbolAtLocation(entryFile);
if (!moduleSymbol) throw new Error(`${entry} has no module symbol`);

const exported = checker.getExportsOfModule(moduleSymbol);
for (const exp of exported) {
  const name = exp.getName();
  const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
  const declarations = (target.getDeclarations() ?? []).filter(isOurs);
  if (declarations.length === 0) continue; // a re-export of a dependency's symbol: documented there
  // Overloads and declaration merging: one documented declaration is enough for the export itself.
  if (!declarations.some(hasDocComment)) report(declarations[0]!, name);
  if (!exportsOnly) for (const d of declarations) checkMembers(name, target, d);
}

offenders.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
if (asJson) {
  console.log(JSON.stringify({ exports: exported.length, offenders }, null, 2));
} else if (offenders.length === 0) {
  console.log(`check:docs: all ${exported.length} public exports of src/index.ts${exportsOnly ? '' : ' and their public members'} have doc comments`);
} else {
  for (const o of offenders) console.log(`${o.file}:${o.line}  ${o.name}  (${o.kind})`);
  console.log(`\ncheck:docs: ${offenders.length} public declaration(s) reachable from src/index.ts have no doc comment`);
}
process.exit(offenders.length === 0 ? 0 : 1);
