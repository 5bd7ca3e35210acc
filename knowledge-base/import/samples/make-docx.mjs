import { readFileSync, writeFileSync } from 'node:fs';
import { Document, HeadingLevel, Packer, Paragraph, TextRun } from 'docx';
const g = JSON.parse(readFileSync(new URL('./guide.json', import.meta.url), 'utf8'));
const children = [new Paragraph({ heading: HeadingLevel.TITLE, children: [new TextRun(g.title)] }), ...g.meta.map((m) => new Paragraph(m))];
for (const [h, lines] of g.sections) {
  children.push(new Paragraph({ heading: HeadingLevel.HEADING_1, children: [new TextRun(h)] }));
  for (const l of lines) children.push(new Paragraph(l));
}
const doc = new Document({ creator: '本市公安局', title: g.title, sections: [{ children }] });
writeFileSync(process.argv[2], await Packer.toBuffer(doc));
