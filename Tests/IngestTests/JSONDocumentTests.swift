import JSON
import Testing

@Suite("JSONDocument: walking arrays and objects by index")
struct JSONDocumentTests {
    @Test("an array's elements and an object's members come in order, nested values skipped whole, duplicates kept")
    func walking() throws {
        let document = try JSONReader.document(Array(#"[{"a":[1,[2,3]],"b":"x\u0079","a":null},[],"s",{}]"#.utf8))
        let elements = document.elements(of: document.root)
        #expect(elements.count == 4)
        #expect(elements.map { document.kind($0) } == [.object, .array, .string, .object])
        let members = document.members(of: elements[0])
        #expect(members.map { document.string($0.key) } == ["a", "b", "a"])
        #expect(document.kind(members[0].value) == .array)
        #expect(document.elements(of: members[0].value).map { document.kind($0) } == [.number, .array])
        #expect(document.string(members[1].value) == "xy")
        #expect(document.kind(members[2].value) == .null)
        #expect(document.elements(of: elements[1]).isEmpty)
        #expect(document.members(of: elements[3]).isEmpty)
    }
}
