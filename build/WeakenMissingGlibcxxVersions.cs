#nullable enable
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Build step: marks version needs on GLIBCXX versions that the system's libstdc++ does not define as weak,
// in ELF64 little-endian shared objects. See Directory.Build.targets for why.
public class WeakenMissingGlibcxxVersions : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        string? system = null;
        foreach (var c in LibStdCxxCandidates) if (File.Exists(c)) { system = c; break; }
        if (system == null) return true; // not a glibc Linux we know: nothing to do
        var systemBytes = File.ReadAllBytes(system);

        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            var bytes = File.ReadAllBytes(path);
            int changed = Weaken(bytes, name => name.StartsWith("GLIBCXX_") && !Contains(systemBytes, name));
            if (changed > 0)
            {
                File.WriteAllBytes(path, bytes);
                Log.LogMessage(MessageImportance.High, $"MaskLab: marked {changed} GLIBCXX version need(s) weak in {path}");
            }
        }
        return true;
    }

    static bool Contains(byte[] haystack, string name)
    {
        var needle = Encoding.ASCII.GetBytes(name + "\0");
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    static int Weaken(byte[] b, Func<string, bool> shouldWeaken)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F') return 0;
        if (b[4] != 2 || b[5] != 1) return 0; // ELF64, little endian only
        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A);
        int shnum = BitConverter.ToUInt16(b, 0x3C);
        int changed = 0;
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(b, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(b, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(b, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(b, (int)sh + 0x2C);
            long strtab = BitConverter.ToInt64(b, (int)(shoff + (long)link * shentsize) + 0x18);
            long vn = offset;
            for (int n = 0; n < count; n++)
            {
                int cnt = BitConverter.ToUInt16(b, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(b, (int)vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    int flagsAt = (int)aux + 4;
                    string name = ReadString(b, strtab + BitConverter.ToUInt32(b, (int)aux + 8));
                    ushort flags = BitConverter.ToUInt16(b, flagsAt);
                    if ((flags & VerFlgWeak) == 0 && shouldWeaken(name))
                    {
                        flags |= VerFlgWeak;
                        b[flagsAt] = (byte)(flags & 0xff);
                        b[flagsAt + 1] = (byte)(flags >> 8);
                        changed++;
                    }
                    uint next = BitConverter.ToUInt32(b, (int)aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = BitConverter.ToUInt32(b, (int)vn + 12);
                if (vnNext == 0) break;
                vn += vnNext;
            }
        }
        return changed;
    }

    static string ReadString(byte[] b, long at)
    {
        int end = (int)at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, end - (int)at);
    }
}
