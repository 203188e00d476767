using System.IO.MemoryMappedFiles;
using System.Text;

namespace MaskLab.Platform;

/// <summary>
/// Reads the dynamic symbol table of ELF64 little-endian shared objects without loading them, so that a libtorch
/// can be checked against what libLibTorchSharp.so calls before either is loaded: a library loaded into the process
/// cannot be unloaded, and a missing function is only found when it is first called, which ends the process.
/// </summary>
/// <remarks>
/// The files are memory-mapped and only the section headers, the symbol table and its strings are touched, so a
/// 500 MB libtorch_cpu.so costs a few tens of megabytes of reading.
/// </remarks>
internal static class ElfSymbols
{
    const uint ShtDynsym = 11;
    const uint ShtGnuVersym = 0x6fffffff;
    const int SymSize = 24;
    const byte BindGlobal = 1, BindWeak = 2, BindGnuUnique = 10;

    /// <summary>
    /// Symbols that <paramref name="path"/> needs from libraries without symbol versions, which is how libtorch
    /// exports: undefined, not weak, and not bound to a version (glibc's and libstdc++'s symbols all carry one).
    /// Weak references (profiling hooks, thread-local initialisers) may stay unresolved and are left out.
    /// </summary>
    public static HashSet<string> StrongUnversionedImports(string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        Scan(path, (in Symbol s, ReadOnlySpan<byte> name) =>
        {
            if (s.Defined || s.Bind == BindWeak || s.Versioned) return;
            if (name.Length > 0) names.Add(Encoding.ASCII.GetString(name));
        });
        return names;
    }

    /// <summary>
    /// The names in <paramref name="wanted"/> that none of <paramref name="libraries"/> defines (exports with
    /// global, weak or unique binding).
    /// </summary>
    public static HashSet<string> Missing(IReadOnlyCollection<string> wanted, IEnumerable<string> libraries)
    {
        var missing = new HashSet<string>(wanted, StringComparer.Ordinal);
        var lookup = missing.GetAlternateLookup<ReadOnlySpan<char>>();
        var buffer = new char[256];
        foreach (var library in libraries)
        {
            if (missing.Count == 0) break;
            Scan(library, (in Symbol s, ReadOnlySpan<byte> name) =>
            {
                if (!s.Defined || s.Bind is not (BindGlobal or BindWeak or BindGnuUnique)) return;
                if (name.Length > buffer.Length) buffer = new char[name.Length * 2];
                int n = Encoding.Latin1.GetChars(name, buffer);
                lookup.Remove(buffer.AsSpan(0, n));
            });
        }
        return missing;
    }

    internal readonly struct Symbol(byte info, ushort section, ushort version)
    {
        public byte Bind => (byte)(info >> 4);
        public bool Defined => section != 0;
        /// <summary>Version index 0 (local) and 1 (global) mean no version; 2 and up name one.</summary>
        public bool Versioned => (version & 0x7fff) >= 2;
    }

    internal delegate void SymbolVisitor(in Symbol symbol, ReadOnlySpan<byte> name);

    static unsafe void Scan(string path, SymbolVisitor visit)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Bad(path, e.Message); }
        // The stream's length is the file's, also where the path is a symbolic link (as in Debian's torch/lib).
        long length = stream.Length;
        if (length < 64) { stream.Dispose(); throw Bad(path, "too short"); }

        using var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        try
        {
            p += view.PointerOffset;
            var file = new ReadOnlySpan<byte>(p, checked((int)Math.Min(length, int.MaxValue)));
            if (file[0] != 0x7f || file[1] != 'E' || file[2] != 'L' || file[3] != 'F') throw Bad(path, "not an ELF file");
            if (file[4] != 2 || file[5] != 1) throw Bad(path, "not a 64-bit little-endian ELF file");

            long shoff = Read<long>(p, length, 0x28);
            int shentsize = Read<ushort>(p, length, 0x3A), shnum = Read<ushort>(p, length, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shnum == 0) throw Bad(path, "no section headers");

            long Header(int i) => shoff + (long)i * shentsize;
            int dynsym = -1, versym = -1;
            for (int i = 0; i < shnum; i++)
            {
                uint type = Read<uint>(p, length, Header(i) + 4);
                if (type == ShtDynsym) dynsym = i;
                else if (type == ShtGnuVersym) versym = i;
            }
            if (dynsym < 0) throw Bad(path, "no dynamic symbol table");

            long symOffset = Read<long>(p, length, Header(dynsym) + 0x18);
            long symBytes = Read<long>(p, length, Header(dynsym) + 0x20);
            int strIndex = (int)Read<uint>(p, length, Header(dynsym) + 0x28);
            if (strIndex <= 0 || strIndex >= shnum) throw Bad(path, "bad symbol string table");
            long strOffset = Read<long>(p, length, Header(strIndex) + 0x18);
            long strBytes = Read<long>(p, length, Header(strIndex) + 0x20);
            long verOffset = versym >= 0 ? Read<long>(p, length, Header(versym) + 0x18) : -1;
            if (symOffset + symBytes > length || strOffset + strBytes > length) throw Bad(path, "truncated");

            var strings = new ReadOnlySpan<byte>(p + strOffset, checked((int)strBytes));
            long count = symBytes / SymSize;
            for (long i = 1; i < count; i++)
            {
                byte* s = p + symOffset + i * SymSize;
                uint nameAt = *(uint*)s;
                ushort version = verOffset >= 0 && verOffset + 2 * i + 2 <= length ? *(ushort*)(p + verOffset + 2 * i) : (ushort)1;
                var symbol = new Symbol(s[4], *(ushort*)(s + 6), version);
                if (nameAt >= strings.Length) continue;
                var rest = strings[(int)nameAt..];
                int end = rest.IndexOf((byte)0);
                visit(in symbol, end < 0 ? rest : rest[..end]);
            }
        }
        catch (InvalidDataException e)
        {
            throw Bad(path, e.Message);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    static unsafe T Read<T>(byte* p, long length, long offset) where T : unmanaged
    {
        if (offset < 0 || offset + sizeof(T) > length) throw new InvalidDataException("offset outside the file");
        return *(T*)(p + offset);
    }

    static MaskLabInputException Bad(string path, string why) => new($"'{path}' cannot be read as a shared library: {why}");
}
