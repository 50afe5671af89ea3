<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>Aftersales</name>
    <message numerus="yes">
        <source>%n 分钟</source>
        <translation>
            <numerusform>%n min</numerusform>
            <numerusform>%n min</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n 小时</source>
        <translation>
            <numerusform>%n h</numerusform>
            <numerusform>%n h</numerusform>
        </translation>
    </message>
    <message>
        <source>15:30</source>
        <translation>15:30</translation>
    </message>
    <message>
        <source>不批准</source>
        <translation>Decline</translation>
    </message>
    <message>
        <source>严重程度</source>
        <translation>Severity</translation>
    </message>
    <message>
        <source>严重：坏了、不能用、发错或缺件</source>
        <translation>Severe: broken, unusable, wrong item or parts missing</translation>
    </message>
    <message>
        <source>中度：明显瑕疵，但不影响使用</source>
        <translation>Medium: a visible flaw that does not stop use</translation>
    </message>
    <message>
        <source>轻度：小瑕疵、划痕、差价</source>
        <translation>Light: a small flaw, a scratch, a price difference</translation>
    </message>
    <message>
        <source>为一位买家开售后单 (Ctrl+N)</source>
        <translation>Open an after-sales case for a buyer (Ctrl+N)</translation>
    </message>
    <message>
        <source>为这位买家再开一单</source>
        <translation>Another case for this buyer</translation>
    </message>
    <message>
        <source>主管决定</source>
        <translation>Supervisor's decision</translation>
    </message>
    <message>
        <source>主管决定：{decision}（{by}）</source>
        <translation>Supervisor: {decision} ({by})</translation>
    </message>
    <message>
        <source>主管姓名</source>
        <translation>Supervisor</translation>
    </message>
    <message>
        <source>买家很生气或要找主管：转给主管决定</source>
        <translation>The buyer is very angry or asks for a manager: let the supervisor decide</translation>
    </message>
    <message>
        <source>买家情绪</source>
        <translation>Buyer's mood</translation>
    </message>
    <message>
        <source>买家情绪变了就点一下</source>
        <translation>The buyer's mood changed? One click</translation>
    </message>
    <message>
        <source>买家想要…</source>
        <translation>Buyer wants…</translation>
    </message>
    <message>
        <source>买家昵称</source>
        <translation>Buyer's nickname</translation>
    </message>
    <message>
        <source>买家说了什么、哪里不对、感受如何</source>
        <translation>What the buyer said: what is wrong, how they feel</translation>
    </message>
    <message>
        <source>买家：{buyer}</source>
        <translation>Buyer: {buyer}</translation>
    </message>
    <message>
        <source>仓库</source>
        <translation>Warehouse</translation>
    </message>
    <message>
        <source>仓库反馈，例如：出库前已检查，无破损</source>
        <translation>Warehouse findings, e.g. checked before dispatch, no damage</translation>
    </message>
    <message>
        <source>仓库反馈：{text}</source>
        <translation>Warehouse: {text}</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>关闭（买家撤回）</source>
        <translation>Close (withdrawn)</translation>
    </message>
    <message>
        <source>分类与诉求</source>
        <translation>Category and wanted outcome</translation>
    </message>
    <message>
        <source>刚跟进过买家：安排下一次跟进</source>
        <translation>You just followed the buyer up: schedule the next follow-up</translation>
    </message>
    <message>
        <source>升级主管</source>
        <translation>Escalate</translation>
    </message>
    <message>
        <source>升级说明已复制，请粘贴到主管的 QQ/微信</source>
        <translation>Escalation copied: paste it to your supervisor on QQ/WeChat</translation>
    </message>
    <message>
        <source>反馈人</source>
        <translation>By</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>可直接提出：{offers}</source>
        <translation>You may offer: {offers}</translation>
    </message>
    <message>
        <source>售后单 {ref}</source>
        <translation>Case {ref}</translation>
    </message>
    <message>
        <source>商品</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>商品 {product}</source>
        <translation>Product {product}</translation>
    </message>
    <message>
        <source>回到售后单列表 (Esc)</source>
        <translation>Back to the cases (Esc)</translation>
    </message>
    <message>
        <source>在权限内：记为已提出；超出权限：不提出，转为升级主管</source>
        <translation>Within your limit: recorded as made; above it: not made, escalated to the supervisor</translation>
    </message>
    <message>
        <source>备注（可选）</source>
        <translation>Note (optional)</translation>
    </message>
    <message>
        <source>复制给主管</source>
        <translation>Copy for the supervisor</translation>
    </message>
    <message>
        <source>复制这段说明，粘贴到主管的 QQ/微信群</source>
        <translation>Copy this summary and paste it into the supervisor's QQ/WeChat group</translation>
    </message>
    <message>
        <source>安抚四步</source>
        <translation>Four calming steps</translation>
    </message>
    <message>
        <source>完成这一步</source>
        <translation>Step done</translation>
    </message>
    <message>
        <source>已升级主管（待主管），把下面这段发给主管：</source>
        <translation>Escalated (waiting for the supervisor). Send them this:</translation>
    </message>
    <message>
        <source>已升级主管，等主管决定</source>
        <translation>Escalated: waiting for the supervisor's decision</translation>
    </message>
    <message>
        <source>已开售后单 {ref}：不再催单，改为售后跟进</source>
        <translation>Case {ref} opened: no more sales chases, after-sales follow-ups instead</translation>
    </message>
    <message>
        <source>已提出方案：{offer}</source>
        <translation>Offer made: {offer}</translation>
    </message>
    <message>
        <source>已约定 {time} 回复买家，到时提醒</source>
        <translation>Call-back promised for {time}: you will be reminded</translation>
    </message>
    <message>
        <source>已结</source>
        <translation>Closed</translation>
    </message>
    <message>
        <source>已结案</source>
        <translation>Case closed</translation>
    </message>
    <message>
        <source>已解决</source>
        <translation>Resolved</translation>
    </message>
    <message>
        <source>已跟进</source>
        <translation>Followed up</translation>
    </message>
    <message>
        <source>店铺（可空）</source>
        <translation>Shop (optional)</translation>
    </message>
    <message>
        <source>开单</source>
        <translation>Open case</translation>
    </message>
    <message>
        <source>开单后买家标记“售后中”，停止催单和大促催付，改为售后跟进提醒。</source>
        <translation>Opening a case marks the buyer 售后中: sales chases and promotion waves stop; after-sales follow-ups remind you instead.</translation>
    </message>
    <message>
        <source>开售后单</source>
        <translation>Open an after-sales case</translation>
    </message>
    <message>
        <source>情绪</source>
        <translation>Mood</translation>
    </message>
    <message>
        <source>想要：{wanted}</source>
        <translation>Wants: {wanted}</translation>
    </message>
    <message>
        <source>我的权限：{limit}</source>
        <translation>My limit: {limit}</translation>
    </message>
    <message>
        <source>批准</source>
        <translation>Approve</translation>
    </message>
    <message>
        <source>挽单建议：{rung}</source>
        <translation>Save the sale: {rung}</translation>
    </message>
    <message>
        <source>提出方案</source>
        <translation>Offer</translation>
    </message>
    <message>
        <source>新买家：保存时一并标星，开单后不再催单</source>
        <translation>New buyer: starred when the case is saved, and never chased while it is open</translation>
    </message>
    <message>
        <source>新售后单</source>
        <translation>New case</translation>
    </message>
    <message>
        <source>无，需要主管决定</source>
        <translation>nothing: the supervisor decides</translation>
    </message>
    <message>
        <source>显示</source>
        <translation>Show</translation>
    </message>
    <message>
        <source>显示完整订单号</source>
        <translation>Show the full order number</translation>
    </message>
    <message>
        <source>未提出：{reason}。已升级主管（待主管），把下面这段发给主管：</source>
        <translation>Not offered: {reason}. Escalated (waiting for the supervisor); send them this:</translation>
    </message>
    <message>
        <source>未结</source>
        <translation>Open</translation>
    </message>
    <message>
        <source>没有已结案的售后单</source>
        <translation>No closed cases</translation>
    </message>
    <message>
        <source>没有待跟进提醒</source>
        <translation>No follow-up pending</translation>
    </message>
    <message>
        <source>没有未结的售后单。买家投诉时点“新售后单”，或在聊天窗口选中昵称后按售后快捷键。</source>
        <translation>No open cases. When a buyer complains, click New case, or select their nickname in the chat window and press the after-sales hotkey.</translation>
    </message>
    <message>
        <source>状态改为待仓库，按仓库节奏提醒跟进</source>
        <translation>Status: waiting for the warehouse, with its own follow-up reminders</translation>
    </message>
    <message>
        <source>第 {n}/4 步</source>
        <translation>step {n}/4</translation>
    </message>
    <message>
        <source>答应买家这个时间内回复：到时提醒</source>
        <translation>Promise the buyer an answer within this time: you will be reminded</translation>
    </message>
    <message>
        <source>约定</source>
        <translation>Promise</translation>
    </message>
    <message>
        <source>约定回复</source>
        <translation>Call back in</translation>
    </message>
    <message>
        <source>结果：{outcome}</source>
        <translation>Outcome: {outcome}</translation>
    </message>
    <message>
        <source>结案</source>
        <translation>Finish</translation>
    </message>
    <message>
        <source>联系仓库核实</source>
        <translation>Ask the warehouse</translation>
    </message>
    <message>
        <source>解决后在下面“结案”选择结果，跟进到买家满意为止。</source>
        <translation>Once solved, pick the outcome under Finish below; follow through until the buyer is satisfied.</translation>
    </message>
    <message>
        <source>订单 {order}</source>
        <translation>Order {order}</translation>
    </message>
    <message>
        <source>订单号（保存后隐藏）</source>
        <translation>Order number (masked once saved)</translation>
    </message>
    <message>
        <source>记一笔… Enter 保存</source>
        <translation>Add a note… Enter saves</translation>
    </message>
    <message>
        <source>记录</source>
        <translation>History</translation>
    </message>
    <message>
        <source>记录主管的答复：批准则记为主管提出的方案，不批准则回到安抚中。</source>
        <translation>Record the supervisor's answer: approved, the offer is recorded as theirs; declined, the case goes back to calming.</translation>
    </message>
    <message>
        <source>记录仓库反馈</source>
        <translation>Record findings</translation>
    </message>
    <message>
        <source>说明 / 升级原因（可选）</source>
        <translation>Note / reason to escalate (optional)</translation>
    </message>
    <message>
        <source>说明（可选）</source>
        <translation>Note (optional)</translation>
    </message>
    <message>
        <source>请写下买家的问题（买家原话）</source>
        <translation>Write down the buyer's problem (in their words)</translation>
    </message>
    <message>
        <source>请选择严重程度：轻度、中度或严重</source>
        <translation>Choose the severity: light, medium or severe</translation>
    </message>
    <message>
        <source>请选择买家想要的结果</source>
        <translation>Choose what the buyer wants</translation>
    </message>
    <message>
        <source>请选择问题分类</source>
        <translation>Choose a category</translation>
    </message>
    <message>
        <source>超出权限，已转为升级主管</source>
        <translation>Above your limit: escalated to the supervisor</translation>
    </message>
    <message>
        <source>跟进</source>
        <translation>Follow-up</translation>
    </message>
    <message>
        <source>返回</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>还没有仓库反馈</source>
        <translation>No warehouse findings yet</translation>
    </message>
    <message>
        <source>这一步做完了：进入下一步</source>
        <translation>This step is done: go to the next</translation>
    </message>
    <message>
        <source>选择分类…</source>
        <translation>Category…</translation>
    </message>
    <message>
        <source>重新打开</source>
        <translation>Reopen</translation>
    </message>
    <message>
        <source>金额 ¥</source>
        <translation>Amount ¥</translation>
    </message>
    <message>
        <source>问题（买家原话）</source>
        <translation>Problem (the buyer's words)</translation>
    </message>
    <message>
        <source>（主管）</source>
        <translation> (supervisor)</translation>
    </message>
    <message>
        <source>（仓库）</source>
        <translation> (warehouse)</translation>
    </message>
    <message>
        <source>搜索买家、单号或问题</source>
        <translation>Search buyer, case number or problem</translation>
    </message>
    <message>
        <source>添加</source>
        <translation>Add</translation>
    </message>
    <message>
        <source>诉求</source>
        <translation>Wants</translation>
    </message>
    <message>
        <source>买家想要的处理方式</source>
        <translation>What the buyer wants done</translation>
    </message>
    <message>
        <source>问题分类</source>
        <translation>What went wrong (category)</translation>
    </message>
    <message>
        <source>程度</source>
        <translation>Severity</translation>
    </message>
<message>
        <source>{severity} · 内置（未设置时）</source>
        <translation>{severity} · built in (when nothing is set)</translation>
    </message>
    <message>
        <source>保存这一条</source>
        <translation>Save this limit</translation>
    </message>
    <message>
        <source>全店默认</source>
        <translation>every agent</translation>
    </message>
    <message>
        <source>删除所选</source>
        <translation>Delete selected</translation>
    </message>
    <message>
        <source>可以</source>
        <translation>May</translation>
    </message>
    <message>
        <source>客服</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>客服在权限内可以直接提出方案；超出的会转为升级主管。按程度设置，可只对某位客服或某个商品。</source>
        <translation>Within their limit an agent makes the offer; above it the case goes to the supervisor. Set per severity, optionally for one agent or one product.</translation>
    </message>
    <message>
        <source>挽单权限</source>
        <translation>Retention limits</translation>
    </message>
    <message>
        <source>挽单权限…</source>
        <translation>Limits…</translation>
    </message>
    <message>
        <source>挽单权限由主管设置，这里只能查看。</source>
        <translation>The supervisor sets the retention limits; you can only read them here.</translation>
    </message>
    <message>
        <source>每位客服不用请示就能提出的补偿和方案</source>
        <translation>What each agent may offer without asking the supervisor</translation>
    </message>
    <message>
        <source>空 = 全店客服</source>
        <translation>empty = every agent</translation>
    </message>
    <message>
        <source>空 = 所有商品</source>
        <translation>empty = every product</translation>
    </message>
    <message>
        <source>补偿上限 ¥</source>
        <translation>Compensation up to ¥</translation>
    </message>
</context>
<context>
    <name>Buyers</name>
    <message>
        <source>撞单：这次催单时买家由别人跟进</source>
        <translation>Collision: someone else was following this buyer when this chase was sent</translation>
    </message>
    <message>
        <source>接手</source>
        <translation>Take over</translation>
    </message>
    <message numerus="yes">
        <source>催过 %n 次</source>
        <translation>
            <numerusform>%n chase</numerusform>
            <numerusform>%n chases</numerusform>
        </translation>
    </message>
    <message>
        <source>有未答问题</source>
        <translation>Open questions</translation>
    </message>
    <message>
        <source>全部标记</source>
        <extracomment>fill-in values for the chosen buyer ({客户}: nickname) — app.py hands them to panel.set_context</extracomment>
        <translation>Marks</translation>
    </message>
    <message>
        <source>全部店铺</source>
        <translation>Shop</translation>
    </message>
    <message>
        <source>选择一位买家查看备注和催单记录</source>
        <translation>Select a buyer to see notes and chase history</translation>
    </message>
    <message>
        <source>点击显示完整号码</source>
        <translation>Click to show the full number</translation>
    </message>
    <message>
        <source>暂停跟进</source>
        <translation>Pause follow-up</translation>
    </message>
    <message>
        <source>恢复跟进</source>
        <translation>Resume follow-up</translation>
    </message>
    <message>
        <source>取消标星</source>
        <translation>Unstar</translation>
    </message>
    <message>
        <source>重新标星</source>
        <translation>Star again</translation>
    </message>
    <message>
        <source>时区 {tz}</source>
        <translation>TZ {tz}</translation>
    </message>
    <message>
        <source>有未答问题，先答疑</source>
        <translation>Answer questions first</translation>
    </message>
    <message>
        <source>下次提醒 {time}</source>
        <translation>Next chase {time}</translation>
    </message>
    <message>
        <source>已回复</source>
        <translation>Replied</translation>
    </message>
    <message>
        <source>还没有催单记录</source>
        <translation>No chases yet</translation>
    </message>
    <message>
        <source>这位买家还有未解答的问题：先答疑再催单</source>
        <translation>This buyer has open questions: answer them before chasing</translation>
    </message>
    <message>
        <source>备注已保存</source>
        <translation>Notes saved</translation>
    </message>
    <message>
        <source>已标星“{nick}”</source>
        <translation>Starred “{nick}”</translation>
    </message>
    <message>
        <source>搜索买家昵称或备注</source>
        <translation>Search nicknames or notes</translation>
    </message>
    <message>
        <source>标星一位买家</source>
        <translation>Star a buyer</translation>
    </message>
    <message>
        <source>全部状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>全部平台</source>
        <translation>Platform</translation>
    </message>
    <message>
        <source>没有符合条件的买家。点右上角的星标，或在聊天窗口选中昵称后按“标星”快捷键。</source>
        <translation>No matching buyers. Click the star at the top right, or select a nickname in the chat window and press the Star hotkey.</translation>
    </message>
    <message>
        <source>粘贴催单</source>
        <translation>Paste chase</translation>
    </message>
    <message>
        <source>回复了</source>
        <translation>Replied</translation>
    </message>
    <message>
        <source>买家回复了：按设置重新开始或保持节奏</source>
        <translation>The buyer replied: restart or keep the cadence, as set in Settings</translation>
    </message>
    <message>
        <source>已付款</source>
        <translation>Paid</translation>
    </message>
    <message>
        <source>流失</source>
        <translation>Lost</translation>
    </message>
    <message>
        <source>备注</source>
        <translation>Notes</translation>
    </message>
    <message>
        <source>保存备注</source>
        <translation>Save notes</translation>
    </message>
    <message>
        <source>买家心情：只邀请满意的买家评价（再点一次取消）</source>
        <translation>The buyer's mood: invite only a happy buyer to review (click again to clear)</translation>
    </message>
    <message>
        <source>邀评</source>
        <translation>Review</translation>
    </message>
    <message>
        <source>没有邀评话术：把话术放进名称含“邀评”的分组</source>
        <translation>No review-invite scripts: put them in a group whose name contains 邀评</translation>
    </message>
    <message>
        <source>催单记录</source>
        <translation>Chase history</translation>
    </message>
    <message>
        <source>买家投诉或要退换：开售后单（停止催单）</source>
        <translation>The buyer complains or wants a return: open an after-sales case (chases stop)</translation>
    </message>
    <message>
        <source>售后单</source>
        <translation>Case</translation>
    </message>
    <message>
        <source>售后单：</source>
        <translation>Cases: </translation>
    </message>
    <message>
        <source>开售后单</source>
        <translation>Case</translation>
    </message>
    <message>
        <source>打开这位买家未结的售后单</source>
        <translation>Open this buyer's open after-sales case</translation>
    </message>
    <message>
        <source>售后处理中：结案前不催单</source>
        <translation>After-sales case open: no chase until it is closed</translation>
    </message>
    <message>
        <source>商品：{name}</source>
        <translation>Product: {name}</translation>
    </message>
    <message>
        <source>关联咨询的商品…</source>
        <translation>Link the product asked about…</translation>
    </message>
    <message>
        <source>管理商品资料…</source>
        <translation>Manage products…</translation>
    </message>
    <message>
        <source>商品资料：卖点、材质、赠品（催单话术从这里填）</source>
        <translation>Products: selling points, material, gifts (chase scripts fill from them)</translation>
    </message>
    <message>
        <source>取消关联</source>
        <translation>Unlink</translation>
    </message>
</context>
<context>
    <name>Crash</name>
    <message>
        <source>客服助手遇到了问题</source>
        <translation>kefu-assistant ran into a problem</translation>
    </message>
    <message>
        <source>程序出现了意外错误。您的数据已经保存，可以继续使用；如果问题反复出现，请把下面的报告发给技术支持。</source>
        <translation>An unexpected error occurred. Your data is saved and you can keep working; if it happens again, send the report below to support.</translation>
    </message>
    <message>
        <source>报告已保存（不含客户资料）：</source>
        <translation>Report saved (no customer data): </translation>
    </message>
    <message>
        <source>报告未能保存到文件，请用“复制报告”。</source>
        <translation>The report could not be saved to a file; use “Copy report”.</translation>
    </message>
    <message>
        <source>复制报告</source>
        <translation>Copy report</translation>
    </message>
    <message>
        <source>打开所在文件夹</source>
        <translation>Open folder</translation>
    </message>
    <message>
        <source>退出程序</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>继续使用</source>
        <translation>Keep working</translation>
    </message>
    <message>
        <source>已复制</source>
        <translation>Copied</translation>
    </message>
</context>
<context>
    <name>Docking</name>
    <message>
        <source>当前系统不支持跟随其他窗口，面板已停靠在屏幕右侧。</source>
        <extracomment>the chosen placement is impossible and the panel fell back to the screen edge (a message) a new outer rect was applied (tests, and the panel to ignore its own resize events) placed as asked again after a fallback (the window turned up, or the mode changed)</extracomment>
        <translation>Following another window is not supported on this system; the panel is docked at the right edge of the screen.</translation>
    </message>
    <message>
        <source>尚未设置要跟随的窗口（设置 → 窗口），面板已停靠在屏幕右侧。</source>
        <translation>No window to follow is set (Settings → Window); the panel is docked at the right edge of the screen.</translation>
    </message>
    <message>
        <source>没有找到标题含“{pattern}”的窗口，面板暂时停靠在屏幕右侧。</source>
        <translation>No window matching “{pattern}” was found; the panel is docked at the right edge of the screen for now.</translation>
    </message>
</context>
<context>
    <name>Editor</name>
    <message>
        <source>建议：</source>
        <translation>Suggested: </translation>
    </message>
    <message>
        <source>仍可保存；列表里会标出这条回复。</source>
        <translation>You can still save it; the list marks this reply.</translation>
    </message>
    <message>
        <source>淘宝/天猫</source>
        <translation>Taobao/Tmall</translation>
    </message>
    <message>
        <source>京东</source>
        <translation>JD</translation>
    </message>
    <message>
        <source>拼多多</source>
        <translation>Pinduoduo</translation>
    </message>
    <message>
        <source>抖音</source>
        <translation>Douyin</translation>
    </message>
    <message>
        <source>速卖通</source>
        <translation>AliExpress</translation>
    </message>
    <message>
        <source>亚马逊</source>
        <translation>Amazon</translation>
    </message>
    <message>
        <source>中文</source>
        <translation>Chinese</translation>
    </message>
    <message>
        <source>英语</source>
        <translation>English</translation>
    </message>
    <message>
        <source>俄语</source>
        <translation>Russian</translation>
    </message>
    <message>
        <source>西班牙语</source>
        <translation>Spanish</translation>
    </message>
    <message>
        <source>商品卖点</source>
        <translation>Product selling point</translation>
    </message>
    <message>
        <source>价格优惠</source>
        <translation>Price and promotion</translation>
    </message>
    <message>
        <source>物流时效</source>
        <translation>Delivery time</translation>
    </message>
    <message>
        <source>赠品福利</source>
        <translation>Gift or extra</translation>
    </message>
    <message>
        <source>询问顾虑</source>
        <translation>Ask what holds them back</translation>
    </message>
    <message>
        <source>新建回复</source>
        <translation>New reply</translation>
    </message>
    <message>
        <source>编辑回复</source>
        <translation>Edit reply</translation>
    </message>
    <message>
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <source>回复内容</source>
        <translation>Reply text</translation>
    </message>
    <message>
        <source>分组</source>
        <translation>Group</translation>
    </message>
    <message>
        <source>短码</source>
        <translation>Short code</translation>
    </message>
    <message>
        <source>语言</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>催单角度</source>
        <translation>Chase angle</translation>
    </message>
    <message>
        <source>适用平台</source>
        <translation>Platforms</translation>
    </message>
    <message>
        <source>快捷键</source>
        <translation>Hotkey</translation>
    </message>
    <message>
        <source>留空则用正文开头</source>
        <translation>Leave empty to use the start of the text</translation>
    </message>
    <message>
        <source>亲，您好～……  用下面的按钮插入 {客户} 这样的填空</source>
        <translation>Hi there… Use the buttons below to insert fill-in fields like {客户}</translation>
    </message>
    <message>
        <source>插入填空：</source>
        <translation>Insert field:</translation>
    </message>
    <message>
        <source>选择或输入新分组，如 售前/问候</source>
        <translation>Pick a group or type a new one, e.g. Pre-sale/Greetings</translation>
    </message>
    <message>
        <source>如 wh1，搜索框输入即可找到</source>
        <translation>e.g. wh1 — type it in the search box to find the reply</translation>
    </message>
    <message>
        <source>（不是催单话术）</source>
        <translation>(not a chase script)</translation>
    </message>
    <message>
        <source>清除</source>
        <translation>Clear</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>复制为新回复</source>
        <translation>Duplicate</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>保存 (Ctrl+S)</source>
        <translation>Save (Ctrl+S)</translation>
    </message>
    <message>
        <source>（副本）</source>
        <translation> (copy)</translation>
    </message>
    <message>
        <source>✓ {key} 可用</source>
        <translation>✓ {key} is free</translation>
    </message>
</context>
<context>
    <name>FillFields</name>
    <message>
        <source>填写回复中的空</source>
        <translation>Fill in the reply</translation>
    </message>
    <message>
        <source>“{title}”需要填写：</source>
        <translation>“{title}” needs:</translation>
    </message>
    <message>
        <source>例如：{example}</source>
        <translation>e.g. {example}</translation>
    </message>
    <message>
        <source>确定</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>还有空没填：{fields}</source>
        <translation>Still empty: {fields}</translation>
    </message>
</context>
<context>
    <name>Groups</name>
    <message>
        <source>全部回复</source>
        <translation>All replies</translation>
    </message>
    <message>
        <source>常用</source>
        <translation>Most used</translation>
    </message>
    <message>
        <source>最近</source>
        <translation>Recent</translation>
    </message>
</context>
<context>
    <name>Handover</name>
    <message>
        <source>交班给同事…</source>
        <translation>Hand over to a colleague…</translation>
    </message>
    <message>
        <source>把我跟进的买家和提醒交给同事或店铺待接池（团队服务器）</source>
        <translation>Give the buyers you follow and their reminders to a colleague or the shop's pool (team server)</translation>
    </message>
    <message>
        <source>今日问题</source>
        <translation>Problem</translation>
    </message>
    <message>
        <source>顾客需求</source>
        <translation>Request</translation>
    </message>
    <message>
        <source>备注</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>卖点</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>价格</source>
        <translation>Price</translation>
    </message>
    <message>
        <source>物流</source>
        <translation>Delivery</translation>
    </message>
    <message>
        <source>赠品</source>
        <translation>Gift</translation>
    </message>
    <message>
        <source>询问</source>
        <translation>Ask</translation>
    </message>
    <message>
        <source>未标</source>
        <translation>None</translation>
    </message>
    <message>
        <source>{n} 秒</source>
        <translation>{n} s</translation>
    </message>
    <message>
        <source>{n} 分钟</source>
        <translation>{n} min</translation>
    </message>
    <message>
        <source>{n} 小时</source>
        <translation>{n} h</translation>
    </message>
    <message>
        <source>{h} 小时 {m} 分</source>
        <translation>{h} h {m} min</translation>
    </message>
    <message>
        <source>{m} 分钟</source>
        <translation>{m} min</translation>
    </message>
    <message numerus="yes">
        <source>连续 %n 次</source>
        <translation>
            <numerusform>%n time in a row</numerusform>
            <numerusform>%n times in a row</numerusform>
        </translation>
    </message>
    <message>
        <source>编辑或删除</source>
        <translation>Edit or delete</translation>
    </message>
    <message>
        <source>编辑…</source>
        <translation>Edit…</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>当前班次</source>
        <extracomment>the agent wants to set their name (agent.name): app.py opens the settings dialog a handover was imported (buyers and reminders changed) a snapshot was shown (tests wait for it) messages for the agent (zh, en, level): the app&apos;s bridge, which the panel shows</extracomment>
        <translation>Current shift</translation>
    </message>
    <message>
        <source>设置昵称</source>
        <translation>Set your name</translation>
    </message>
    <message>
        <source>开始上班</source>
        <translation>Start shift</translation>
    </message>
    <message>
        <source>交班</source>
        <translation>Hand over</translation>
    </message>
    <message>
        <source>导出交接文件并结束本班次</source>
        <translation>Export the handover files and end this shift</translation>
    </message>
    <message>
        <source>导出</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>导出交接文件（HTML / Excel / JSON），不结束班次</source>
        <translation>Export the handover files (HTML / Excel / JSON) without ending the shift</translation>
    </message>
    <message>
        <source>导入</source>
        <translation>Import</translation>
    </message>
    <message>
        <source>导入上一班的交接文件 (JSON)</source>
        <translation>Import the previous shift&apos;s handover file (JSON)</translation>
    </message>
    <message>
        <source>计算器</source>
        <translation>Calculator</translation>
    </message>
    <message>
        <source>销售额与大促排班计算</source>
        <translation>Sales and promotion staffing calculator</translation>
    </message>
    <message>
        <source>上一班留言</source>
        <translation>From the previous shift</translation>
    </message>
    <message>
        <source>数据</source>
        <translation>Numbers</translation>
    </message>
    <message>
        <source>本班</source>
        <translation>Shift</translation>
    </message>
    <message>
        <source>今天</source>
        <translation>Today</translation>
    </message>
    <message>
        <source>催单角度</source>
        <translation>Chases by angle</translation>
    </message>
    <message>
        <source>常用回复</source>
        <translation>Top replies</translation>
    </message>
    <message>
        <source>工作日志</source>
        <translation>Work log</translation>
    </message>
    <message>
        <source>记一笔：遇到的问题、顾客想要的… Enter 保存</source>
        <translation>Note a problem or what buyers asked for… Enter saves</translation>
    </message>
    <message>
        <source>添加到日志 (Enter)</source>
        <translation>Add to the log (Enter)</translation>
    </message>
    <message>
        <source>显示更多</source>
        <translation>Show more</translation>
    </message>
    <message>
        <source>正在读取…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>进行中</source>
        <translation>On shift</translation>
    </message>
    <message>
        <source>未上班</source>
        <translation>Off shift</translation>
    </message>
    <message>
        <source>未设置客服昵称</source>
        <translation>No agent name set</translation>
    </message>
    <message>
        <source>{start} 上班 · 已 {span}</source>
        <translation>Started {start} · {span} ago</translation>
    </message>
    <message>
        <source>还没有上班。开始上班后，粘贴、催单和标星都会记入本班。</source>
        <translation>Not on shift. Once you start, pastes, chases and stars are counted in your shift.</translation>
    </message>
    <message>
        <source>上一班留言 · {agent} {when}</source>
        <translation>From the previous shift · {agent} {when}</translation>
    </message>
    <message numerus="yes">
        <source>展开 (%n)</source>
        <translation>
            <numerusform>Show (%n)</numerusform>
            <numerusform>Show (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>收起</source>
        <translation>Hide</translation>
    </message>
    <message>
        <source>粘贴回复</source>
        <translation>Replies pasted</translation>
    </message>
    <message>
        <source>标星买家</source>
        <translation>Buyers starred</translation>
    </message>
    <message>
        <source>催单次数</source>
        <translation>Chases sent</translation>
    </message>
    <message>
        <source>催单后付款</source>
        <translation>Paid after chase</translation>
    </message>
    <message numerus="yes">
        <source>共催 %n 人</source>
        <translation>
            <numerusform>of %n buyer chased</numerusform>
            <numerusform>of %n buyers chased</numerusform>
        </translation>
    </message>
    <message>
        <source>流失</source>
        <translation>Lost</translation>
    </message>
    <message>
        <source>错过提醒</source>
        <translation>Missed reminders</translation>
    </message>
    <message numerus="yes">
        <source>%n 条未处理</source>
        <translation>
            <numerusform>%n still open</numerusform>
            <numerusform>%n still open</numerusform>
        </translation>
    </message>
    <message>
        <source>催单转化率</source>
        <translation>Chase conversion</translation>
    </message>
    <message numerus="yes">
        <source>付款 %n 人（含未催）</source>
        <translation>
            <numerusform>%n paid in all</numerusform>
            <numerusform>%n paid in all</numerusform>
        </translation>
    </message>
    <message>
        <source>到点→处理 平均</source>
        <translation>Avg. due → acted</translation>
    </message>
    <message numerus="yes">
        <source>共处理 %n 次</source>
        <translation>
            <numerusform>%n reminder handled</numerusform>
            <numerusform>%n reminders handled</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>全部 %n</source>
        <translation>
            <numerusform>All %n</numerusform>
            <numerusform>All %n</numerusform>
        </translation>
    </message>
    <message>
        <source>还没有粘贴过回复</source>
        <translation>No replies pasted yet</translation>
    </message>
    <message numerus="yes">
        <source>%n 条</source>
        <translation>
            <numerusform>%n item</numerusform>
            <numerusform>%n items</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>我记的 %n 条</source>
        <translation>
            <numerusform>%n mine</numerusform>
            <numerusform>%n mine</numerusform>
        </translation>
    </message>
    <message>
        <source>还没有记录。粘贴回复、催单、标星会自动记在这里；遇到的问题和顾客需求请在上面记一笔。</source>
        <translation>Nothing yet. Pastes, chases and stars are logged here by themselves; note problems and buyer requests above.</translation>
    </message>
    <message>
        <source>上期 {n}</source>
        <translation>before: {n}</translation>
    </message>
    <message>
        <source>升级主管</source>
        <translation>Escalations</translation>
    </message>
    <message>
        <source>售后（与上期相比）</source>
        <translation>After-sales (vs the previous period)</translation>
    </message>
    <message>
        <source>已结案</source>
        <translation>Closed</translation>
    </message>
    <message>
        <source>未结售后</source>
        <translation>Open cases</translation>
    </message>
    <message>
        <source>本期没有退款</source>
        <translation>No refunds in this period</translation>
    </message>
    <message>
        <source>结案时长（中位）</source>
        <translation>Time to close (median)</translation>
    </message>
    <message>
        <source>赔偿金额</source>
        <translation>Compensation</translation>
    </message>
    <message>
        <source>退款</source>
        <translation>Refunds</translation>
    </message>
    <message>
        <source>退款原因：{reasons}</source>
        <translation>Refund reasons: {reasons}</translation>
    </message>
    <message numerus="yes">
        <source>本期新开 %n</source>
        <translation>
            <numerusform>%n opened</numerusform>
            <numerusform>%n opened</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>超权限 %n 次</source>
        <translation>
            <numerusform>%n above the limit</numerusform>
            <numerusform>%n above the limit</numerusform>
        </translation>
    </message>
    <message>
        <source>{name} {n}（上期 {m}）</source>
        <translation>{name} {n} (before: {m})</translation>
    </message>
</context>
<context>
    <name>HandoverDialogs</name>
    <message>
        <source>交班给同事</source>
        <translation>Hand over to a colleague</translation>
    </message>
    <message>
        <source>把我跟进的买家和提醒交给：</source>
        <translation>Give the buyers you follow and their reminders to:</translation>
    </message>
    <message>
        <source>交班</source>
        <translation>Hand over</translation>
    </message>
    <message>
        <source>正在读取…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>店铺待接池（任何同事可接）</source>
        <translation>Shop's pool (any colleague may take them)</translation>
    </message>
    <message numerus="yes">
        <source>我现在跟进 %n 位买家，他们的提醒将转给接班人。</source>
        <translation>
            <numerusform>You follow %n buyer now; their reminders go to the receiver.</numerusform>
            <numerusform>You follow %n buyers now; their reminders go to the receiver.</numerusform>
        </translation>
    </message>
    <message>
        <source>客服交接</source>
        <translation>Handover</translation>
    </message>
    <message>
        <source>选择保存交接文件的文件夹</source>
        <translation>Choose the folder for the handover files</translation>
    </message>
    <message>
        <source>选择交接文件</source>
        <translation>Choose a handover file</translation>
    </message>
    <message>
        <source>交接文件 (*.json)</source>
        <translation>Handover files (*.json)</translation>
    </message>
    <message>
        <source>交班导出</source>
        <translation>Export handover</translation>
    </message>
    <message>
        <source>保存到文件夹</source>
        <translation>Save to folder</translation>
    </message>
    <message>
        <source>选择…</source>
        <translation>Choose…</translation>
    </message>
    <message>
        <source>导出格式</source>
        <translation>Formats</translation>
    </message>
    <message>
        <source>HTML 报告（可打印）</source>
        <translation>HTML report (printable)</translation>
    </message>
    <message>
        <source>Excel 表格 (.xlsx)</source>
        <translation>Excel workbook (.xlsx)</translation>
    </message>
    <message>
        <source>JSON（接班同事导入用）</source>
        <translation>JSON (for the next shift to import)</translation>
    </message>
    <message>
        <source>包含完整手机号和订单号</source>
        <translation>Include full phone and order numbers</translation>
    </message>
    <message>
        <source>文件中将出现买家的完整手机号和订单号。只发给接班同事，不要转发到群里或外传。</source>
        <translation>The files will contain buyers&apos; full phone and order numbers. Give them only to the next shift; never forward them to groups or outsiders.</translation>
    </message>
    <message>
        <source>导出后交班（结束本班次）</source>
        <translation>Hand over after exporting (end this shift)</translation>
    </message>
    <message>
        <source>打开文件夹</source>
        <translation>Open folder</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>导出并交班</source>
        <translation>Export and hand over</translation>
    </message>
    <message>
        <source>导出</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>请选择保存的文件夹</source>
        <translation>Choose a folder to save to</translation>
    </message>
    <message>
        <source>正在导出…</source>
        <translation>Exporting…</translation>
    </message>
    <message numerus="yes">
        <source>已导出 %n 位买家的交接信息到：</source>
        <translation>
            <numerusform>Exported the handover of %n buyer to: </numerusform>
            <numerusform>Exported the handover of %n buyers to: </numerusform>
        </translation>
    </message>
    <message>
        <source>已交班。</source>
        <translation>Shift handed over. </translation>
    </message>
    <message>
        <source>新增</source>
        <translation>New</translation>
    </message>
    <message>
        <source>更新</source>
        <translation>Update</translation>
    </message>
    <message>
        <source>导入交接</source>
        <translation>Import handover</translation>
    </message>
    <message>
        <source>文件：</source>
        <translation>File: </translation>
    </message>
    <message>
        <source>买家</source>
        <translation>Buyer</translation>
    </message>
    <message>
        <source>操作</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>说明</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>导入</source>
        <translation>Import</translation>
    </message>
    <message>
        <source>来自 {agent} · 导出于 {when}</source>
        <translation>From {agent} · exported {when}</translation>
    </message>
    <message numerus="yes">
        <source>催单记录 +%n</source>
        <translation>
            <numerusform>chases +%n</numerusform>
            <numerusform>chases +%n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>提醒 +%n</source>
        <translation>
            <numerusform>reminders +%n</numerusform>
            <numerusform>reminders +%n</numerusform>
        </translation>
    </message>
    <message>
        <source>合并备注</source>
        <translation>notes merged</translation>
    </message>
    <message>
        <source>标记：</source>
        <translation>marks: </translation>
    </message>
    <message numerus="yes">
        <source>更新 %n 项信息</source>
        <translation>
            <numerusform>%n field updated</numerusform>
            <numerusform>%n fields updated</numerusform>
        </translation>
    </message>
    <message>
        <source>KA 重点店铺（约 ×45）</source>
        <translation>Key-account shop (about ×45)</translation>
    </message>
    <message>
        <source>成熟店铺（约 ×22）</source>
        <translation>Established shop (about ×22)</translation>
    </message>
    <message>
        <source>普通店铺（约 ×15）</source>
        <translation>Ordinary shop (about ×15)</translation>
    </message>
    <message>
        <source>计算器</source>
        <translation>Calculator</translation>
    </message>
    <message>
        <source>销售额</source>
        <translation>Sales</translation>
    </message>
    <message>
        <source>大促排班</source>
        <translation>Promotion staffing</translation>
    </message>
    <message>
        <source>询单人数</source>
        <translation>Inquiries</translation>
    </message>
    <message>
        <source>转化率</source>
        <translation>Conversion</translation>
    </message>
    <message>
        <source>客单价（元）</source>
        <translation>Avg. order value</translation>
    </message>
    <message>
        <source>如 20% 或 0.2</source>
        <translation>e.g. 20% or 0.2</translation>
    </message>
    <message>
        <source>销售额 = 询单人数 × 转化率 × 客单价</source>
        <translation>Sales = inquiries × conversion × average order value</translation>
    </message>
    <message>
        <source>平日日均询单（每店）</source>
        <translation>Normal daily inquiries (per shop)</translation>
    </message>
    <message>
        <source>店铺类型</source>
        <translation>Shop type</translation>
    </message>
    <message>
        <source>店铺数</source>
        <translation>Shops</translation>
    </message>
    <message>
        <source>每人每天承接</source>
        <translation>Inquiries per agent a day</translation>
    </message>
    <message>
        <source>不限</source>
        <translation>Not set</translation>
    </message>
    <message>
        <source>约 {orders} 单 · 转化率 {rate}</source>
        <translation>About {orders} orders · conversion {rate}</translation>
    </message>
    <message numerus="yes">
        <source>大促需 %n 人</source>
        <translation>
            <numerusform>%n agent for the promotion</numerusform>
            <numerusform>%n agents for the promotion</numerusform>
        </translation>
    </message>
    <message>
        <source>大促当天询单约 {total}（每店 {per}，平日的 {mult} 倍）· 平日 {normal} 人</source>
        <translation>About {total} inquiries on the day ({per} per shop, {mult}× normal) · {normal} agent(s) normally</translation>
    </message>
    <message>
        <source>编辑日志</source>
        <translation>Edit log entry</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
</context>
<context>
    <name>HotkeyEdit</name>
    <message>
        <source>点击后按下组合键，退格键清除</source>
        <translation>Click, then press a key combination; Backspace clears</translation>
    </message>
</context>
<context>
    <name>MessageBar</name>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
</context>
<context>
    <name>Panel</name>
    <message>
        <source>客服助手</source>
        <extracomment>paste this reply into the chat window (reply id, fill-in values) — the paste flow&apos;s paste_reply the agent filled the fields the paste flow asked for: (the paste flow&apos;s token, values) the agent cancelled that form (token) replies were created, edited, deleted or imported (per-reply hotkeys may have changed) the settings dialog saved; all declared settings with their new values the editor is recording a chord: global hotkeys should be paused meanwhile the tray&apos;s or the menu&apos;s &quot;pause hotkeys&quot; (True = paused) fill-in values known for the current buyer changed ({客户}, {订单号}…)</extracomment>
        <translation>kefu-assistant</translation>
    </message>
    <message>
        <source>窗口置顶</source>
        <translation>Always on top</translation>
    </message>
    <message>
        <source>更多</source>
        <translation>More</translation>
    </message>
    <message>
        <source>新建回复 (Ctrl+N)</source>
        <translation>New reply (Ctrl+N)</translation>
    </message>
    <message>
        <source>粘贴</source>
        <translation>Paste</translation>
    </message>
    <message>
        <source>粘贴到聊天窗口 (Enter)</source>
        <translation>Paste into the chat window (Enter)</translation>
    </message>
    <message>
        <source>复制</source>
        <translation>Copy</translation>
    </message>
    <message>
        <source>只复制，不粘贴 (Ctrl+Enter)</source>
        <translation>Copy only, do not paste (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>编辑</source>
        <translation>Edit</translation>
    </message>
    <message>
        <source>编辑这条回复 (Ctrl+E)</source>
        <translation>Edit this reply (Ctrl+E)</translation>
    </message>
    <message>
        <source>新建回复…</source>
        <translation>New reply…</translation>
    </message>
    <message>
        <source>导入回复…</source>
        <translation>Import replies…</translation>
    </message>
    <message>
        <source>导出回复…</source>
        <translation>Export replies…</translation>
    </message>
    <message>
        <source>窗口位置</source>
        <translation>Window position</translation>
    </message>
    <message>
        <source>停靠在屏幕右侧</source>
        <translation>Dock at the right edge</translation>
    </message>
    <message>
        <source>停靠在屏幕左侧</source>
        <translation>Dock at the left edge</translation>
    </message>
    <message>
        <source>跟随聊天窗口</source>
        <translation>Beside the chat window</translation>
    </message>
    <message>
        <source>自由摆放</source>
        <translation>Free</translation>
    </message>
    <message>
        <source>暂停全局快捷键</source>
        <translation>Pause global hotkeys</translation>
    </message>
    <message>
        <source>设置…</source>
        <translation>Settings…</translation>
    </message>
    <message>
        <source>隐藏面板</source>
        <translation>Hide panel</translation>
    </message>
    <message>
        <source>退出客服助手</source>
        <translation>Quit kefu-assistant</translation>
    </message>
    <message numerus="yes">
        <source>找到 %n 条</source>
        <translation>
            <numerusform>%n match</numerusform>
            <numerusform>%n matches</numerusform>
        </translation>
    </message>
    <message>
        <source>没有找到匹配的回复</source>
        <translation>No matching reply</translation>
    </message>
    <message numerus="yes">
        <source>%n 条回复</source>
        <translation>
            <numerusform>%n reply</numerusform>
            <numerusform>%n replies</numerusform>
        </translation>
    </message>
    <message>
        <source>分词词典加载中，暂用简单匹配</source>
        <translation>Dictionary loading; simple matching</translation>
    </message>
    <message>
        <source>全局快捷键已暂停</source>
        <translation>Global hotkeys paused</translation>
    </message>
    <message>
        <source>Enter 复制到剪贴板</source>
        <translation>Enter copies to the clipboard</translation>
    </message>
    <message>
        <source>Enter 粘贴 · Ctrl+Enter 复制</source>
        <translation>Enter pastes · Ctrl+Enter copies</translation>
    </message>
    <message>
        <source>粘贴到聊天窗口</source>
        <translation>Paste into the chat window</translation>
    </message>
    <message>
        <source>编辑…</source>
        <translation>Edit…</translation>
    </message>
    <message>
        <source>复制为新回复…</source>
        <translation>Duplicate…</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>已复制到剪贴板</source>
        <translation>Copied to the clipboard</translation>
    </message>
    <message>
        <source>已复制，请按 Ctrl+V 粘贴到聊天窗口</source>
        <translation>Copied — press Ctrl+V in the chat window to paste</translation>
    </message>
    <message>
        <source>已保存“{title}”</source>
        <translation>Saved “{title}”</translation>
    </message>
    <message>
        <source>撤销</source>
        <translation>Undo</translation>
    </message>
    <message>
        <source>已删除“{title}”</source>
        <translation>Deleted “{title}”</translation>
    </message>
    <message>
        <source>已恢复“{title}”</source>
        <translation>Restored “{title}”</translation>
    </message>
    <message>
        <source>kefu 正在导入回复（进程 {pid}），更改将在导入后保存…</source>
        <translation>kefu is importing replies (process {pid}); saving your change after it…</translation>
    </message>
    <message>
        <source>数据库正被其他程序占用，更改将稍后保存…</source>
        <translation>Another program is using the database; saving your change later…</translation>
    </message>
    <message>
        <source>等待中的更改已保存</source>
        <translation>The changes that were waiting have been saved</translation>
    </message>
</context>
<context>
    <name>Preview</name>
    <message>
        <source>选中一条回复即可在这里预览全文</source>
        <translation>Select a reply to see its full text here</translation>
    </message>
    <message>
        <source>填空：{fields}</source>
        <translation>Fields: {fields}</translation>
    </message>
    <message numerus="yes">
        <source>已用 %n 次</source>
        <translation>
            <numerusform>Used %n time</numerusform>
            <numerusform>Used %n times</numerusform>
        </translation>
    </message>
    <message>
        <source>语言：{lang}</source>
        <translation>Language: {lang}</translation>
    </message>
</context>
<context>
    <name>Reminders</name>
    <message>
        <source>。在“客户”页选择买家问的商品，催单就会讲这个商品</source>
        <translation>. Choose the product they asked about in the Customers tab, and chases will speak of it</translation>
    </message>
    <message>
        <source>关联商品</source>
        <translation>Link a product</translation>
    </message>
    <message>
        <source>商品：{name}</source>
        <translation>Product: {name}</translation>
    </message>
    <message>
        <source>已接手“{nick}”，现在由你跟进</source>
        <translation>Took over “{nick}”: you follow them now</translation>
    </message>
    <message>
        <source>接手</source>
        <translation>Take over</translation>
    </message>
    <message>
        <source>刚刚</source>
        <translation>just now</translation>
    </message>
    <message numerus="yes">
        <source>%n 分钟前</source>
        <translation>
            <numerusform>%n min ago</numerusform>
            <numerusform>%n min ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n 小时前</source>
        <translation>
            <numerusform>%n hour ago</numerusform>
            <numerusform>%n hours ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n 天前</source>
        <translation>
            <numerusform>%n day ago</numerusform>
            <numerusform>%n days ago</numerusform>
        </translation>
    </message>
    <message>
        <source>现在</source>
        <translation>now</translation>
    </message>
    <message numerus="yes">
        <source>%n 分钟后</source>
        <translation>
            <numerusform>in %n min</numerusform>
            <numerusform>in %n min</numerusform>
        </translation>
    </message>
    <message>
        <source>明天 {time}</source>
        <translation>tomorrow {time}</translation>
    </message>
    <message>
        <source>下次提醒：{time}</source>
        <extracomment>paste this reply into the chat window (reply id, fill-in values, attribution): app.py wires the paste flow&apos;s paste_reply_attributed, whose attributed_paste_done(attribution, ...) goes to on_attributed_paste_done; without a paste flow the text is copied answer to the next-chase hotkey: (token, reply id, values, attribution) -&gt; flow.paste_reply_to_attributed open this buyer in the 客户 tab a reminder was acted on (its id): views drop it a chase was recorded for this buyer messages for the agent (zh, en, level): the app&apos;s bridge, which the panel shows</extracomment>
        <translation>Next chase: {time}</translation>
    </message>
    <message>
        <source>节奏已完成，没有下一次提醒</source>
        <translation>Cadence complete; no more chases</translation>
    </message>
    <message>
        <source>已记录催单。</source>
        <translation>Chase recorded. </translation>
    </message>
    <message numerus="yes">
        <source>%n 分钟后再提醒</source>
        <translation>
            <numerusform>Reminding again in %n min</numerusform>
            <numerusform>Reminding again in %n min</numerusform>
        </translation>
    </message>
    <message>
        <source>已标记为已付款，停止催单</source>
        <translation>Marked paid; chasing stopped</translation>
    </message>
    <message>
        <source>已标记为流失，停止催单</source>
        <translation>Marked lost; chasing stopped</translation>
    </message>
    <message>
        <source>已记录买家回复</source>
        <translation>Buyer reply recorded</translation>
    </message>
    <message>
        <source>已暂停跟进</source>
        <translation>Follow-up paused</translation>
    </message>
    <message>
        <source>已恢复跟进</source>
        <translation>Follow-up resumed</translation>
    </message>
    <message>
        <source>已取消标星</source>
        <translation>Unstarred</translation>
    </message>
    <message>
        <source>已标星“{nick}”（{where}），开始跟进</source>
        <translation>Starred “{nick}” ({where}); follow-up started</translation>
    </message>
    <message>
        <source>现在没有需要催单的买家</source>
        <translation>No buyers to chase right now</translation>
    </message>
    <message>
        <source>“{nick}”还有未解答的问题，先回答再催单</source>
        <translation>“{nick}” has open questions: answer before chasing</translation>
    </message>
    <message>
        <source>大促电话名单：{name}</source>
        <extracomment>the proposed script arrived (the card&apos;s height changed)</extracomment>
        <translation>Promo call list: {name}</translation>
    </message>
    <message>
        <source>晚了 {ago}</source>
        <translation>Due {ago}</translation>
    </message>
    <message>
        <source>到点</source>
        <translation>Due now</translation>
    </message>
    <message>
        <source>{cadence} 第 {n}/{total} 次</source>
        <translation>{cadence}: chase {n}/{total}</translation>
    </message>
    <message>
        <source>大促催付：{name}</source>
        <translation>Promo chase: {name}</translation>
    </message>
    <message>
        <source>上次：{title}，{ago}</source>
        <translation>Last: {title}, {ago}</translation>
    </message>
    <message>
        <source>还没有催过</source>
        <translation>Not chased yet</translation>
    </message>
    <message>
        <source>粘贴催单</source>
        <translation>Paste chase</translation>
    </message>
    <message>
        <source>把建议的话术粘贴到聊天窗口，并记录这次催单</source>
        <translation>Paste the suggested script into the chat window and record this chase</translation>
    </message>
    <message>
        <source>仍要催单</source>
        <translation>Chase anyway</translation>
    </message>
    <message>
        <source>稍后</source>
        <translation>Later</translation>
    </message>
    <message>
        <source>已付款</source>
        <translation>Paid</translation>
    </message>
    <message>
        <source>流失</source>
        <translation>Lost</translation>
    </message>
    <message>
        <source>打开：在“客户”页查看这位买家</source>
        <translation>Open: show this buyer in the Buyers tab</translation>
    </message>
    <message>
        <source>已处理</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>推迟</source>
        <translation>Snooze</translation>
    </message>
    <message numerus="yes">
        <source>%n 分钟</source>
        <translation>
            <numerusform>%n min</numerusform>
            <numerusform>%n min</numerusform>
        </translation>
    </message>
    <message>
        <source>打电话给高客单、意向明显的标星买家（电话号码在“客户”页按需显示）。</source>
        <translation>Call starred buyers with a high order value and clear intent (phone numbers are shown on demand in the Buyers tab).</translation>
    </message>
    <message numerus="yes">
        <source>错过的催单提醒（%n）</source>
        <translation>
            <numerusform>Missed chase (%n)</numerusform>
            <numerusform>Missed chases (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>该催单了（%n）</source>
        <translation>
            <numerusform>Time to chase (%n)</numerusform>
            <numerusform>Time to chase (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>关闭（提醒保留在“提醒”页）</source>
        <translation>Close (reminders stay in the Chases tab)</translation>
    </message>
    <message numerus="yes">
        <source>还有 %n 条，请在“提醒”页查看</source>
        <translation>
            <numerusform>%n more in the Chases tab</numerusform>
            <numerusform>%n more in the Chases tab</numerusform>
        </translation>
    </message>
    <message>
        <source>买家要售后：打开或新开售后单（停止催单）</source>
        <translation>The buyer has an after-sales problem: open their case or a new one (chases stop)</translation>
    </message>
    <message>
        <source>售后</source>
        <translation>Case</translation>
    </message>
    <message>
        <source>售后单 {ref} · {status} · 第 {step}/4 步</source>
        <translation>Case {ref} · {status} · step {step}/4</translation>
    </message>
    <message>
        <source>已记录跟进，下次跟进已安排</source>
        <translation>Follow-up recorded; the next one is scheduled</translation>
    </message>
    <message>
        <source>已跟进</source>
        <translation>Followed up</translation>
    </message>
    <message>
        <source>已跟进这张售后单：安排下一次跟进</source>
        <translation>You followed this case up: schedule the next follow-up</translation>
    </message>
    <message>
        <source>打开售后单</source>
        <translation>Open case</translation>
    </message>
    <message>
        <source>打开这位买家的售后单</source>
        <translation>Open this buyer's after-sales case</translation>
    </message>
    <message>
        <source>正在准备话术…</source>
        <translation>Preparing the script…</translation>
    </message>
    <message>
        <source>没有可用的新话术（所有角度都用过了）</source>
        <translation>No new script left (every angle has been used)</translation>
    </message>
    <message>
        <source>通用</source>
        <translation>generic</translation>
    </message>
    <message>
        <source>没有关联商品：这是通用话术，发之前按买家的商品改一改</source>
        <translation>No product linked: this is a generic script, adapt it to the buyer's product before sending</translation>
    </message>
    <message>
        <source>正在读取售后单…</source>
        <translation>Reading the case…</translation>
    </message>
    <message numerus="yes">
        <source>该跟进售后了（%n）</source>
        <translation>
            <numerusform>After-sales follow-up (%n)</numerusform>
            <numerusform>After-sales follow-ups (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>电话名单</source>
        <translation>Phone list</translation>
    </message>
    <message>
        <source>打开名单：逐个打电话并记下结果</source>
        <translation>Open the list: call each buyer and note how it went</translation>
    </message>
    <message>
        <source>已关闭</source>
        <translation>Closed</translation>
    </message>
    <message>
        <source>平台已关闭这个未付款订单：停止催付</source>
        <translation>The platform closed this unpaid order: stop the payment chase</translation>
    </message>
    <message>
        <source>订单已付款：停止这个订单的催付</source>
        <translation>The order was paid: stop this order's payment chase</translation>
    </message>
</context>
<context>
    <name>RemindersTab</name>
    <message>
        <source>现在该催</source>
        <translation>Due now</translation>
    </message>
    <message>
        <source>一小时内</source>
        <translation>Within an hour</translation>
    </message>
    <message>
        <source>今天稍后</source>
        <translation>Later today</translation>
    </message>
    <message>
        <source>大促电话名单：{name}</source>
        <translation>Promo call list: {name}</translation>
    </message>
    <message>
        <source>现在 {now} 位 · 一小时内 {hour} 位 · 今天 {today} 位</source>
        <translation>{now} now · {hour} within an hour · {today} today</translation>
    </message>
    <message>
        <source>大促活动…</source>
        <translation>Promotions…</translation>
    </message>
    <message>
        <source>新建或修改大促：电话名单和催付波次</source>
        <translation>Add or change a promotion: its phone list and payment wave</translation>
    </message>
    <message>
        <source>今天没有待催的买家。标星买家后，到点的催单会出现在这里。</source>
        <translation>No buyers to chase today. Star a buyer and its chases show up here when due.</translation>
    </message>
    <message>
        <source>催付 {order}</source>
        <translation>Payment chase {order}</translation>
    </message>
</context>
<context>
    <name>SearchBox</name>
    <message>
        <source>搜索话术：文字、拼音首字母或短码</source>
        <translation>Search: text, pinyin initials, code</translation>
    </message>
    <message>
        <source>↑↓ 选择 · Enter 粘贴 · Ctrl+Enter 复制 · Alt+数字 直接发送 · Esc 清空/隐藏</source>
        <translation>↑↓ select · Enter paste · Ctrl+Enter copy · Alt+number send · Esc clear/hide</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>团队</source>
        <translation>Team</translation>
    </message>
    <message>
        <source>常规</source>
        <translation>General</translation>
    </message>
    <message>
        <source>窗口</source>
        <translation>Window</translation>
    </message>
    <message>
        <source>快捷键</source>
        <translation>Hotkeys</translation>
    </message>
    <message>
        <source>粘贴</source>
        <translation>Paste</translation>
    </message>
    <message>
        <source>提醒</source>
        <translation>Reminders</translation>
    </message>
    <message>
        <source>数据与备份</source>
        <translation>Data &amp; backups</translation>
    </message>
    <message>
        <source>其他</source>
        <translation>Other</translation>
    </message>
    <message>
        <source>简体中文</source>
        <translation>Simplified Chinese</translation>
    </message>
    <message>
        <source>English（英语）</source>
        <translation>English</translation>
    </message>
    <message>
        <source>停靠在屏幕右侧</source>
        <translation>Docked at the right edge</translation>
    </message>
    <message>
        <source>停靠在屏幕左侧</source>
        <translation>Docked at the left edge</translation>
    </message>
    <message>
        <source>跟随聊天窗口（贴在它旁边）</source>
        <translation>Beside the chat window, following it</translation>
    </message>
    <message>
        <source>自由摆放（记住位置）</source>
        <translation>Free (position remembered)</translation>
    </message>
    <message>
        <source>Ctrl+V（大多数程序）</source>
        <translation>Ctrl+V (most programs)</translation>
    </message>
    <message>
        <source>Shift+Insert（终端、部分旧程序）</source>
        <translation>Shift+Insert (terminals, some older programs)</translation>
    </message>
    <message>
        <source>逐字输入（不经剪贴板）</source>
        <translation>Type the text (no clipboard)</translation>
    </message>
    <message>
        <source>从头开始催单节奏</source>
        <translation>Start the cadence again</translation>
    </message>
    <message>
        <source>保持原来的节奏</source>
        <translation>Keep the current cadence</translation>
    </message>
    <message>
        <source>转入空窗回访</source>
        <translation>Move on to the quiet-period revisit</translation>
    </message>
    <message>
        <source>停止催单</source>
        <translation>Stop chasing</translation>
    </message>
    <message>
        <source>自动（按客单价选择）</source>
        <translation>Automatic (by order value)</translation>
    </message>
    <message>
        <source>会话中（3/5/7/9 分钟）</source>
        <translation>In chat (3/5/7/9 min)</translation>
    </message>
    <message>
        <source>回访（10/20/30 分钟）</source>
        <translation>Revisit (10/20/30 min)</translation>
    </message>
    <message>
        <source>高客单（多日跟进）</source>
        <translation>High ticket (follow up over days)</translation>
    </message>
    <message>
        <source>低客单（当次跟进）</source>
        <translation>Low ticket (this visit only)</translation>
    </message>
    <message>
        <source>与“{action}”重复</source>
        <translation>Same as “{action}”</translation>
    </message>
    <message>
        <source>已被回复“{title}”使用</source>
        <translation>Already used by the reply “{title}”</translation>
    </message>
    <message>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>程序名</source>
        <translation>Process</translation>
    </message>
    <message>
        <source>窗口类</source>
        <translation>Window class</translation>
    </message>
    <message>
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <source>粘贴方式</source>
        <translation>Paste method</translation>
    </message>
    <message>
        <source>延迟(毫秒)</source>
        <translation>Delay (ms)</translation>
    </message>
    <message>
        <source>添加规则</source>
        <translation>Add rule</translation>
    </message>
    <message>
        <source>删除所选</source>
        <translation>Remove selected</translation>
    </message>
    <message>
        <source>程序名/窗口类/标题为正则表达式，不区分大小写；留空的粘贴方式和延迟用上面的默认值。</source>
        <translation>Process, window class and title are case-insensitive regular expressions; an empty method or delay uses the defaults above.</translation>
    </message>
    <message>
        <source>默认</source>
        <translation>Default</translation>
    </message>
    <message>
        <source>规则“{name}”需要填写程序名、窗口类或标题中的至少一项</source>
        <translation>Rule “{name}” needs a process, window class or title</translation>
    </message>
    <message>
        <source>规则“{name}”的表达式无效：{error}</source>
        <translation>Rule “{name}” has an invalid pattern: {error}</translation>
    </message>
    <message>
        <source>规则“{name}”的延迟应为整数</source>
        <translation>The delay of rule “{name}” must be a whole number</translation>
    </message>
    <message>
        <source>设置</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>恢复默认设置</source>
        <translation>Restore defaults</translation>
    </message>
    <message>
        <source>把所有设置改回默认值（点“保存”后生效）</source>
        <translation>Set every setting back to its default (applied when you click Save)</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>选择…</source>
        <translation>Choose…</translation>
    </message>
    <message>
        <source>每行一组意思相同的词，用空格隔开，例如：
退钱 钱退 返款
亲子装 家庭装</source>
        <translation>One group of words meaning the same per line, separated by spaces, e.g.:
退钱 钱退 返款 (refund)
亲子装 家庭装 (family outfit)</translation>
    </message>
    <message>
        <source>多个词用逗号隔开</source>
        <translation>Words separated by commas</translation>
    </message>
    <message>
        <source>如 千牛、AliWorkBench、京麦</source>
        <translation>e.g. Qianniu, AliWorkBench, Jingmai</translation>
    </message>
    <message>
        <source>从打开的窗口中选…</source>
        <translation>Pick an open window…</translation>
    </message>
    <message>
        <source>打开文件夹</source>
        <translation>Open folder</translation>
    </message>
    <message>
        <source>更换数据文件夹：用 --data-dir 参数或 KEFU_HOME 环境变量启动。请勿放在网盘同步文件夹中。</source>
        <translation>To use another data folder, start with --data-dir or the KEFU_HOME environment variable. Do not put it in a cloud sync folder.</translation>
    </message>
    <message>
        <source>数据文件夹</source>
        <translation>Data folder</translation>
    </message>
    <message>
        <source>回复</source>
        <translation>Reply</translation>
    </message>
    <message>
        <source>还没有回复设置快捷键。在回复编辑器的“快捷键”一栏按下组合键即可设置。</source>
        <translation>No reply has a hotkey yet. Press a key combination in the Hotkey box of the reply editor to set one.</translation>
    </message>
    <message>
        <source>双击一行可编辑该回复。</source>
        <translation>Double-click a row to edit that reply.</translation>
    </message>
    <message>
        <source>回复快捷键</source>
        <translation>Reply hotkeys</translation>
    </message>
    <message>
        <source>选择备份文件夹</source>
        <translation>Choose the backup folder</translation>
    </message>
    <message>
        <source>（无法列出窗口：请直接输入标题中的文字）</source>
        <translation>(Cannot list windows: type part of the title instead)</translation>
    </message>
</context>
<context>
    <name>StarDialog</name>
    <message>
        <source>接手原因（可不填）</source>
        <translation>Reason for the take-over (optional)</translation>
    </message>
    <message>
        <source>{name} 正在跟进这位买家：标星前先接手，团队会记录这次接手。</source>
        <translation>{name} is following this buyer: starring takes them over first, and the team log records it.</translation>
    </message>
    <message>
        <source>接手并标星</source>
        <translation>Take over and star</translation>
    </message>
    <message>
        <source>标星买家</source>
        <translation>Star buyer</translation>
    </message>
    <message>
        <source>可不填；列表中只显示 138****5678</source>
        <translation>Optional; lists show only 138****5678</translation>
    </message>
    <message>
        <source>跨境买家填写，例如 Europe/Moscow</source>
        <translation>For cross-border buyers, e.g. Europe/Moscow</translation>
    </message>
    <message>
        <source>买家还有未解答的问题（先答疑，暂不催单）</source>
        <translation>Buyer has open questions (answer first, no chasing yet)</translation>
    </message>
    <message>
        <source>按标记自动选择</source>
        <translation>Auto (by marks)</translation>
    </message>
    <message>
        <source>平台</source>
        <translation>Platform</translation>
    </message>
    <message>
        <source>店铺</source>
        <translation>Shop</translation>
    </message>
    <message>
        <source>买家昵称</source>
        <translation>Nickname</translation>
    </message>
    <message>
        <source>标记</source>
        <translation>Marks</translation>
    </message>
    <message>
        <source>节奏</source>
        <translation>Cadence</translation>
    </message>
    <message>
        <source>电话</source>
        <translation>Phone</translation>
    </message>
    <message>
        <source>时区</source>
        <translation>Time zone</translation>
    </message>
    <message>
        <source>标星并开始跟进</source>
        <translation>Star and follow up</translation>
    </message>
    <message>
        <source>商品</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>不关联</source>
        <translation>None</translation>
    </message>
</context>
<context>
    <name>Supervisor</name>
    <message>
        <source>客服账号</source>
        <translation>Agents</translation>
    </message>
    <message>
        <source>{name} 本来就已停用；{n} 位买家回到待接池</source>
        <translation>{name} was already disabled; {n} buyer(s) returned to the pool</translation>
    </message>
    <message>
        <source>两次输入的密码不一致</source>
        <translation>The two passwords differ</translation>
    </message>
    <message>
        <source>为 {name}（{role}）设置新密码。对方下次连接时使用新密码。</source>
        <translation>A new password for {name} ({role}). They use it the next time they connect.</translation>
    </message>
    <message>
        <source>为选中的客服设置新密码（需要 CREATEROLE 权限）</source>
        <translation>Set a new password for the selected agent (needs the CREATEROLE right)</translation>
    </message>
    <message>
        <source>主管</source>
        <translation>Supervisor</translation>
    </message>
    <message>
        <source>停用客服</source>
        <translation>Disable agent</translation>
    </message>
    <message>
        <source>停用客服 {name}（{role}）？对方将不再看到任何店铺，正在跟进的 {n} 位买家回到待接池。</source>
        <translation>Disable the agent {name} ({role})? They will no longer see any shop, and the {n} buyer(s) they follow return to the pool.</translation>
    </message>
    <message>
        <source>停用客服…</source>
        <translation>Disable agent…</translation>
    </message>
    <message>
        <source>停用：对方不再看到任何店铺，跟进的买家回到待接池。要同时禁止登录，请管理员运行 kefu team disable-agent。</source>
        <translation>Disable: the agent no longer sees any shop, and the buyers they follow return to the pool. To stop their login too, an admin runs kefu team disable-agent.</translation>
    </message>
    <message>
        <source>再输一次</source>
        <translation>Repeat</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>在职</source>
        <translation>Active</translation>
    </message>
    <message>
        <source>已停用</source>
        <translation>Disabled</translation>
    </message>
    <message>
        <source>已停用 {name}：{n} 位买家回到待接池</source>
        <translation>Disabled {name}: {n} buyer(s) returned to the pool</translation>
    </message>
    <message>
        <source>已重置 {name} 的密码：对方在设置的“团队”页重新连接时使用新密码</source>
        <translation>Reset the password of {name}: they connect again with the new one on the Team page of the settings</translation>
    </message>
    <message>
        <source>新密码</source>
        <translation>New password</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>离职的客服：停用账号，其跟进的买家回到待接池</source>
        <translation>For an agent who left: disable the account; the buyers they follow return to the pool</translation>
    </message>
    <message>
        <source>自动刷新失败：{error}</source>
        <translation>Automatic refresh failed: {error}</translation>
    </message>
    <message>
        <source>账号</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>跟进中</source>
        <translation>Following</translation>
    </message>
    <message>
        <source>身份</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>重置密码</source>
        <translation>Reset password</translation>
    </message>
    <message>
        <source>重置密码…</source>
        <translation>Reset password…</translation>
    </message>
    <message>
        <source>{name}（{n} 位）</source>
        <translation>{name} ({n})</translation>
    </message>
    <message>
        <source>“{title}”已是第 {v} 版的内容，未更改</source>
        <translation>“{title}” already has version {v}'s text: nothing changed</translation>
    </message>
    <message>
        <source>买家</source>
        <translation>Buyer</translation>
    </message>
    <message>
        <source>今日</source>
        <translation>Today</translation>
    </message>
    <message>
        <source>买家数</source>
        <translation>Buyers</translation>
    </message>
    <message>
        <source>修改人</source>
        <translation>Who</translation>
    </message>
    <message>
        <source>催了别人正在跟进的买家</source>
        <translation>Chases of a buyer someone else was following</translation>
    </message>
    <message>
        <source>催单</source>
        <translation>Chases</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>内容：{before} → {after}</source>
        <translation>Text: {before} → {after}</translation>
    </message>
    <message>
        <source>分组：{before} → {after}</source>
        <translation>Group: {before} → {after}</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Deleted</translation>
    </message>
    <message>
        <source>刷新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>变更</source>
        <translation>Change</translation>
    </message>
    <message>
        <source>团队服务器出错：{error}</source>
        <translation>Team server error: {error}</translation>
    </message>
    <message>
        <source>团队管理</source>
        <translation>Team</translation>
    </message>
    <message>
        <source>团队管理…</source>
        <translation>Team…</translation>
    </message>
    <message>
        <source>客服</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>已把 {nick} 改派给 {name}</source>
        <translation>Reassigned {nick} to {name}</translation>
    </message>
    <message>
        <source>已把“{title}”恢复为第 {v} 版，现为第 {now} 版</source>
        <translation>Restored “{title}” to version {v}; it is now version {now}</translation>
    </message>
    <message>
        <source>平台 / 店铺</source>
        <translation>Platform / shop</translation>
    </message>
    <message>
        <source>待接</source>
        <translation>Pool</translation>
    </message>
    <message>
        <source>恢复删除</source>
        <translation>Undeleted</translation>
    </message>
    <message>
        <source>恢复此版本</source>
        <translation>Revert to this version</translation>
    </message>
    <message>
        <source>把“{title}”恢复为第 {v} 版的内容？全店客服同步后都会看到。</source>
        <translation>Restore “{title}” to version {v}? Every agent of the shop sees it after their next sync.</translation>
    </message>
    <message>
        <source>把选中的买家交给另一位在职客服跟进</source>
        <translation>Give the selected buyer to another active agent</translation>
    </message>
    <message>
        <source>接手</source>
        <translation>Take-overs</translation>
    </message>
    <message>
        <source>撞单</source>
        <translation>Collisions</translation>
    </message>
    <message>
        <source>改派…</source>
        <translation>Reassign…</translation>
    </message>
    <message>
        <source>新建：{title}</source>
        <translation>Created: {title}</translation>
    </message>
    <message>
        <source>无文字变化</source>
        <translation>No text change</translation>
    </message>
    <message>
        <source>日期</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>时间</source>
        <translation>When</translation>
    </message>
    <message>
        <source>标题：{before} → {after}</source>
        <translation>Title: {before} → {after}</translation>
    </message>
    <message>
        <source>每位客服正在跟进的买家，以及加星后无人跟进的待接买家。</source>
        <translation>The buyers each agent follows, and the pool: starred buyers nobody follows.</translation>
    </message>
    <message>
        <source>版本</source>
        <translation>Version</translation>
    </message>
    <message>
        <source>短码：{before} → {after}</source>
        <translation>Code: {before} → {after}</translation>
    </message>
    <message>
        <source>话术</source>
        <translation>Reply</translation>
    </message>
    <message>
        <source>话术变更</source>
        <translation>Library history</translation>
    </message>
    <message>
        <source>跟进中 {held} 位 · 待接 {pool} 位</source>
        <translation>{held} followed · {pool} in the pool</translation>
    </message>
    <message>
        <source>跟进到</source>
        <translation>Held until</translation>
    </message>
    <message>
        <source>跟进情况</source>
        <translation>Who follows whom</translation>
    </message>
    <message>
        <source>这一天没有催单或认领记录</source>
        <translation>No chases or claims on this day</translation>
    </message>
    <message>
        <source>通过接手、改派或交班转来的买家</source>
        <translation>Buyers received by take-over, reassignment or handover</translation>
    </message>
</context>
<context>
    <name>Tabs</name>
    <message>
        <source>快捷回复</source>
        <translation>Replies</translation>
    </message>
    <message>
        <source>客户</source>
        <extracomment>(key, label) for Panel.add_tab</extracomment>
        <translation>Buyers</translation>
    </message>
    <message>
        <source>提醒</source>
        <extracomment>(key, label) for Panel.add_tab</extracomment>
        <translation>Chases</translation>
    </message>
    <message>
        <source>交接</source>
        <extracomment>(key, label) for Panel.add_tab</extracomment>
        <translation>Handover</translation>
    </message>
    <message>
        <source>售后</source>
        <translation>Cases</translation>
    </message>
</context>
<context>
    <name>Team</name>
    <message>
        <source>{name} 跟进中</source>
        <translation>Followed by {name}</translation>
    </message>
    <message>
        <source>{name} 跟进中：先“接手”才能催单或标星</source>
        <translation>Followed by {name}: take over before you chase or star this buyer</translation>
    </message>
    <message>
        <source>接手买家</source>
        <translation>Take over buyer</translation>
    </message>
    <message>
        <source>接手后由你跟进这位买家，{name} 不能再催单。团队会记录这次接手。</source>
        <translation>After the take-over you follow this buyer and {name} can no longer chase them. The team log records it.</translation>
    </message>
    <message>
        <source>接手原因（可不填），例如：买家点名找我</source>
        <translation>Reason (optional), e.g. the buyer asked for me</translation>
    </message>
    <message>
        <source>接手</source>
        <translation>Take over</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>撞单：{holder} 跟进中的买家被 {chaser} 催单了</source>
        <translation>Collision: {chaser} chased a buyer {holder} was following</translation>
    </message>
    <message>
        <source>买家：{nick}</source>
        <translation>Buyer: {nick}</translation>
    </message>
    <message>
        <source>催单时间 {time}</source>
        <translation>chased at {time}</translation>
    </message>
    <message>
        <source>先和对方确认由谁继续跟进，避免重复催单。</source>
        <translation>Agree with each other who follows this buyer from now on, so they are not chased twice.</translation>
    </message>
    <message>
        <source>上次同步：{time}</source>
        <translation>Last sync: {time}</translation>
    </message>
    <message>
        <source>你的修改</source>
        <translation>Your change</translation>
    </message>
    <message>
        <source>你的修改没有覆盖它。比较两边，选择重新提交你的修改，或保留服务器版本。</source>
        <translation>Your change did not overwrite it. Compare both sides, then submit your change again or keep the server's version.</translation>
    </message>
    <message>
        <source>保留服务器版本</source>
        <translation>Keep the server's version</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>内容</source>
        <translation>Text</translation>
    </message>
    <message>
        <source>原因：{reason}</source>
        <translation>Reason: {reason}</translation>
    </message>
    <message>
        <source>发布到店铺…</source>
        <translation>Share to shop…</translation>
    </message>
    <message>
        <source>团队同步冲突</source>
        <translation>Team sync conflicts</translation>
    </message>
    <message>
        <source>团队：同步中…</source>
        <translation>Team: syncing…</translation>
    </message>
    <message>
        <source>团队：已同步</source>
        <translation>Team: in sync</translation>
    </message>
    <message>
        <source>在服务器的新版本上再次提交你的标题、内容和短码</source>
        <translation>Submit your title, text and short code again on top of the server's new version</translation>
    </message>
    <message>
        <source>复制一份归你自己的话术，可以随意修改</source>
        <translation>Make a copy in your own replies that you can change freely</translation>
    </message>
    <message>
        <source>复制到我的话术</source>
        <translation>Copy to my replies</translation>
    </message>
    <message>
        <source>已发布到店铺“{shop}”，同步后全店客服都能用</source>
        <translation>Shared to shop '{shop}': every agent of the shop gets it at the next sync</translation>
    </message>
    <message>
        <source>已复制到我的话术：“{title}”</source>
        <translation>Copied to my replies: '{title}'</translation>
    </message>
    <message>
        <source>已连接团队服务器</source>
        <translation>Connected to the team server</translation>
    </message>
    <message>
        <source>店铺</source>
        <translation>Shop</translation>
    </message>
    <message>
        <source>店铺话术</source>
        <translation>Shop reply</translation>
    </message>
    <message>
        <source>店铺话术 · {shop}</source>
        <translation>Shop reply · {shop}</translation>
    </message>
    <message>
        <source>店铺话术“{title}”在服务器上已被别人修改</source>
        <translation>Shop reply '{title}' was changed on the server by someone else</translation>
    </message>
    <message>
        <source>售后单 #{n} 的改动未能同步</source>
        <translation>A change to after-sales case #{n} was not synced</translation>
    </message>
    <message>
        <source>店铺话术“{title}”未能应用</source>
        <translation>Shop reply '{title}' could not be applied</translation>
    </message>
    <message>
        <source>店铺话术“{title}”的短码 {code} 已被你的话术使用，店铺副本暂无短码</source>
        <translation>The short code {code} of shop reply '{title}' is used by one of your replies; the shop copy has no short code for now</translation>
    </message>
    <message>
        <source>店铺话术由主管维护，不能修改</source>
        <translation>Shop replies are kept by the supervisor and cannot be changed</translation>
    </message>
    <message>
        <source>店铺话术：保存后同步给店铺的所有客服</source>
        <translation>Shop reply: once saved, it goes to every agent of the shop</translation>
    </message>
    <message numerus="yes">
        <source>待发送 %n 条更改</source>
        <translation>
            <numerusform>%n change waiting to be sent</numerusform>
            <numerusform>%n changes waiting to be sent</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>有 %n 条团队同步冲突</source>
        <translation>
            <numerusform>%n team sync conflict</numerusform>
            <numerusform>%n team sync conflicts</numerusform>
        </translation>
    </message>
    <message>
        <source>服务器上的版本</source>
        <translation>Version on the server</translation>
    </message>
    <message>
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <source>正在与团队服务器同步</source>
        <translation>Syncing with the team server</translation>
    </message>
    <message>
        <source>没有待处理的冲突</source>
        <translation>No open conflicts</translation>
    </message>
    <message>
        <source>点击查看并处理</source>
        <translation>Click to review them</translation>
    </message>
    <message>
        <source>用我的再提交</source>
        <translation>Submit mine again</translation>
    </message>
    <message>
        <source>知道了</source>
        <translation>Got it</translation>
    </message>
    <message>
        <source>短码</source>
        <translation>Short code</translation>
    </message>
    <message>
        <source>短码冲突</source>
        <translation>Short code conflict</translation>
    </message>
    <message>
        <source>离线 · 本机继续工作</source>
        <translation>Offline · working locally</translation>
    </message>
    <message>
        <source>这些更改没能按原样同步。两边的内容都保留着，处理后这里的提示会消失。</source>
        <translation>These changes could not be synced as they were. Both sides are kept; once settled, the notice goes away.</translation>
    </message>
    <message>
        <source>连不上团队服务器。你的更改保存在本机，服务器恢复后自动发送。</source>
        <translation>The team server cannot be reached. Your changes are kept on this PC and sent when the server is back.</translation>
    </message>
    <message>
        <source>{name} 跟进中：先“接手”才能添加订单或标记付款、关闭</source>
        <translation>Followed by {name}: take over before you add orders or mark them paid or closed</translation>
    </message>
    <message>
        <source>{name} 跟进中：先“接手”才能记录跟进结果</source>
        <translation>Followed by {name}: take over before you record how the chase went</translation>
    </message>
</context>
<context>
    <name>Transfer</name>
    <message numerus="yes">
        <source>%n 条有合规提示（照常导入）</source>
        <translation>
            <numerusform>%n with compliance findings (imported all the same)</numerusform>
            <numerusform>%n with compliance findings (imported all the same)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>；%n 条有合规提示，已在列表中标出</source>
        <translation>
            <numerusform>; %n with compliance findings, marked in the list</numerusform>
            <numerusform>; %n with compliance findings, marked in the list</numerusform>
        </translation>
    </message>
    <message>
        <source>回复文件 (*.csv *.xlsx *.json);;千牛 CSV (*.csv);;千牛 Excel (*.xlsx);;JSON (*.json)</source>
        <translation>Reply files (*.csv *.xlsx *.json);;Qianniu CSV (*.csv);;Qianniu Excel (*.xlsx);;JSON (*.json)</translation>
    </message>
    <message>
        <source>导入回复</source>
        <translation>Import replies</translation>
    </message>
    <message>
        <source>尚未选择文件</source>
        <translation>No file chosen yet</translation>
    </message>
    <message>
        <source>选择文件…</source>
        <translation>Choose file…</translation>
    </message>
    <message>
        <source>支持千牛导出的快捷短语（CSV / Excel）和本软件导出的 JSON。导入前会先列出将要新增、覆盖和跳过的回复。</source>
        <translation>Reads Qianniu quick-phrase exports (CSV / Excel) and this program&apos;s JSON. Nothing is written before you have seen what will be added, replaced and skipped.</translation>
    </message>
    <message>
        <source>覆盖库中已有的同一条回复（按 ID 或短码匹配），而不是跳过</source>
        <translation>Replace replies already in the library (matched by id or short code) instead of skipping them</translation>
    </message>
    <message>
        <source>保留原样：不是填空字段的花括号（如 {8折}）按普通文字导入</source>
        <translation>Keep as written: braces that are no fill-in field (like {20% off}) are imported as plain text</translation>
    </message>
    <message>
        <source>位置</source>
        <translation>Where</translation>
    </message>
    <message>
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <source>分组</source>
        <translation>Group</translation>
    </message>
    <message>
        <source>说明</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>导入</source>
        <translation>Import</translation>
    </message>
    <message>
        <source>选择要导入的文件</source>
        <translation>Choose the file to import</translation>
    </message>
    <message>
        <source>第 {row} 行：</source>
        <translation>Row {row}: </translation>
    </message>
    <message>
        <source>如果这些花括号只是普通文字，请勾选上面的“保留原样”。</source>
        <translation>If these braces are plain text, tick “Keep as written” above.</translation>
    </message>
    <message numerus="yes">
        <source>…另有 %n 条未列出</source>
        <translation>
            <numerusform>…and %n more not listed</numerusform>
            <numerusform>…and %n more not listed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>文件中共 %n 条回复</source>
        <translation>
            <numerusform>%n reply in the file</numerusform>
            <numerusform>%n replies in the file</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>新增 %n 条</source>
        <translation>
            <numerusform>%n new</numerusform>
            <numerusform>%n new</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>覆盖 %n 条</source>
        <translation>
            <numerusform>%n replaced</numerusform>
            <numerusform>%n replaced</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>跳过 %n 条</source>
        <translation>
            <numerusform>%n skipped</numerusform>
            <numerusform>%n skipped</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>新建分组 %n 个</source>
        <translation>
            <numerusform>%n new group</numerusform>
            <numerusform>%n new groups</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n 处花括号按原样保留</source>
        <translation>
            <numerusform>%n brace kept as written</numerusform>
            <numerusform>%n braces kept as written</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>导入 %n 条</source>
        <translation>
            <numerusform>Import %n reply</numerusform>
            <numerusform>Import %n replies</numerusform>
        </translation>
    </message>
    <message>
        <source>新增</source>
        <translation>New</translation>
    </message>
    <message>
        <source>覆盖</source>
        <translation>Replace</translation>
    </message>
    <message>
        <source>跳过</source>
        <translation>Skip</translation>
    </message>
    <message>
        <source>导入完成：新增 {added} 条，覆盖 {replaced} 条，跳过 {skipped} 条</source>
        <translation>Import done: {added} added, {replaced} replaced, {skipped} skipped</translation>
    </message>
    <message numerus="yes">
        <source>；%n 处花括号按原样保留</source>
        <translation>
            <numerusform>; %n brace kept as written</numerusform>
            <numerusform>; %n braces kept as written</numerusform>
        </translation>
    </message>
    <message>
        <source>导出回复</source>
        <translation>Export replies</translation>
    </message>
    <message>
        <source>全部回复</source>
        <translation>All replies</translation>
    </message>
    <message>
        <source>千牛快捷短语 CSV (.csv)</source>
        <translation>Qianniu quick phrases CSV (.csv)</translation>
    </message>
    <message>
        <source>千牛快捷短语 Excel (.xlsx)</source>
        <translation>Qianniu quick phrases Excel (.xlsx)</translation>
    </message>
    <message>
        <source>完整备份 JSON（含快捷键、使用次数）(.json)</source>
        <translation>Full JSON backup with hotkeys and usage (.json)</translation>
    </message>
    <message>
        <source>浏览…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>范围</source>
        <translation>Scope</translation>
    </message>
    <message>
        <source>格式</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>保存到</source>
        <translation>Save to</translation>
    </message>
    <message>
        <source>打开所在文件夹</source>
        <translation>Open folder</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>导出</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>导出到</source>
        <translation>Export to</translation>
    </message>
    <message>
        <source>请选择保存位置</source>
        <translation>Choose where to save</translation>
    </message>
    <message numerus="yes">
        <source>已导出 %n 条回复到：</source>
        <translation>
            <numerusform>Exported %n reply to: </numerusform>
            <numerusform>Exported %n replies to: </numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>显示/隐藏面板</source>
        <translation>Show/hide panel</translation>
    </message>
    <message>
        <source>暂停全局快捷键</source>
        <translation>Pause global hotkeys</translation>
    </message>
    <message>
        <source>设置…</source>
        <translation>Settings…</translation>
    </message>
    <message>
        <source>退出</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>客服助手</source>
        <translation>kefu-assistant</translation>
    </message>
    <message>
        <source>快捷键已暂停</source>
        <translation>hotkeys paused</translation>
    </message>
</context>
<context>
    <name>TeamSettings</name>
    <message>
        <source>店铺的 CA 证书文件。选了证书而地址里没写 sslmode 时，会核对服务器的证书和名称（verify-full）。</source>
        <translation>The shop's CA certificate file. With a certificate and no sslmode in the URL, the server's certificate and name are checked (verify-full).</translation>
    </message>
    <message>
        <source>CA 证书（可选）</source>
        <translation>CA certificate (optional)</translation>
    </message>
    <message>
        <source>● 同步中…</source>
        <translation>● Syncing…</translation>
    </message>
    <message>
        <source>● 已同步</source>
        <translation>● Synced</translation>
    </message>
    <message>
        <source>● 未在同步</source>
        <translation>● Not syncing</translation>
    </message>
    <message>
        <source>● 离线，本机继续工作</source>
        <translation>● Offline, working on this PC</translation>
    </message>
    <message>
        <source>上次同步</source>
        <translation>Last sync</translation>
    </message>
    <message>
        <source>主管</source>
        <translation>supervisor</translation>
    </message>
    <message>
        <source>从未</source>
        <translation>never</translation>
    </message>
    <message>
        <source>冲突</source>
        <translation>Conflicts</translation>
    </message>
    <message>
        <source>加入店铺的团队：填入管理员给你的地址和密码，连接后共享店铺话术和标星买家。不连接时，本机单独工作。</source>
        <translation>Join your shop's team: enter the address and password your admin gave you. Once connected, the shop library and starred buyers are shared. Without a team, this PC works on its own.</translation>
    </message>
    <message>
        <source>团队</source>
        <translation>Team</translation>
    </message>
    <message>
        <source>客服</source>
        <translation>agent</translation>
    </message>
    <message>
        <source>密码</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>已断开团队服务器，密码已从系统密码库删除。</source>
        <translation>Disconnected from the team server; the password was removed from the OS keyring.</translation>
    </message>
    <message>
        <source>已连接团队服务器：{role}（{kind}）。密码保存在系统密码库。</source>
        <translation>Connected to the team server as {role} ({kind}). The password is kept in the OS keyring.</translation>
    </message>
    <message>
        <source>店铺</source>
        <translation>Shops</translation>
    </message>
    <message>
        <source>CA 证书：店铺的证书文件。选了证书而地址里没写 sslmode 时，会核对服务器的证书和名称（verify-full）。</source>
        <translation>CA certificate: the shop's certificate file. With a certificate and no sslmode in the URL, the server's certificate and name are checked (verify-full).</translation>
    </message>
    <message>
        <source>待发送</source>
        <translation>Waiting to send</translation>
    </message>
    <message>
        <source>断开</source>
        <translation>Disconnect</translation>
    </message>
    <message>
        <source>断开与团队服务器的连接？店铺话术留在本机，成为你自己的话术；密码从系统密码库删除。</source>
        <translation>Disconnect from the team server? The shop replies stay on this PC as your own replies; the password is removed from the OS keyring.</translation>
    </message>
    <message>
        <source>断开后，店铺话术留在本机，成为你自己的话术；密码从系统密码库删除，再次连接时需重新输入。</source>
        <translation>After disconnecting, the shop replies stay on this PC as your own replies; the password is removed from the OS keyring and asked again when you reconnect.</translation>
    </message>
    <message>
        <source>断开团队服务器</source>
        <translation>Disconnect from the team server</translation>
    </message>
    <message>
        <source>服务器</source>
        <translation>Server</translation>
    </message>
    <message>
        <source>服务器地址</source>
        <translation>Server URL</translation>
    </message>
    <message>
        <source>正在断开…</source>
        <translation>Disconnecting…</translation>
    </message>
    <message>
        <source>正在连接…</source>
        <translation>Connecting…</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>证书 (*.crt *.pem *.cer);;所有文件 (*)</source>
        <translation>Certificates (*.crt *.pem *.cer);;All files (*)</translation>
    </message>
    <message>
        <source>账号</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>跟进中</source>
        <translation>Following</translation>
    </message>
    <message>
        <source>连接</source>
        <translation>Connect</translation>
    </message>
    <message>
        <source>选择…</source>
        <translation>Choose…</translation>
    </message>
    <message>
        <source>选择店铺的 CA 证书</source>
        <translation>Choose the shop's CA certificate</translation>
    </message>
    <message numerus="yes">
        <source>%n 条修改</source>
        <translation>
            <numerusform>%n change</numerusform>
            <numerusform>%n changes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n 条</source>
        <translation>
            <numerusform>%n</numerusform>
            <numerusform>%n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n 位买家</source>
        <translation>
            <numerusform>%n buyer</numerusform>
            <numerusform>%n buyers</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>放弃 %n 条修改并断开</source>
        <translation>
            <numerusform>Drop %n change and disconnect</numerusform>
            <numerusform>Drop %n changes and disconnect</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>还有 %n 条修改没有发送到团队服务器，未断开。连上服务器后会自动发送，之后再断开；或者放弃这些修改。</source>
        <translation>
            <numerusform>%n change has not reached the team server yet: not disconnected. It is sent once the server can be reached; disconnect after that, or drop it.</numerusform>
            <numerusform>%n changes have not reached the team server yet: not disconnected. They are sent once the server can be reached; disconnect after that, or drop them.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Compliance</name>
    <message>
        <source>合规提示：{names}</source>
        <translation>Compliance: {names}</translation>
    </message>
    <message>
        <source>合规</source>
        <translation>Compliance</translation>
    </message>
</context>
<context>
    <name>Products</name>
    <message>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>简称</source>
        <translation>Short name</translation>
    </message>
    <message>
        <source>店铺</source>
        <translation>Shop</translation>
    </message>
    <message>
        <source>链接/ID</source>
        <translation>Link / id</translation>
    </message>
    <message>
        <source>价格区间</source>
        <translation>Price band</translation>
    </message>
    <message>
        <source>卖点</source>
        <translation>Selling points</translation>
    </message>
    <message>
        <source>材质</source>
        <translation>Material</translation>
    </message>
    <message>
        <source>尺码</source>
        <translation>Size</translation>
    </message>
    <message>
        <source>保养</source>
        <translation>Care</translation>
    </message>
    <message>
        <source>赠品</source>
        <translation>Gift</translation>
    </message>
    <message>
        <source>优惠说明</source>
        <translation>Promotion</translation>
    </message>
    <message>
        <source>表格 (*.xlsx *.csv)</source>
        <translation>Spreadsheets (*.xlsx *.csv)</translation>
    </message>
    <message>
        <source>导入商品表格</source>
        <translation>Import a product sheet</translation>
    </message>
    <message>
        <source>保存商品表格</source>
        <translation>Save the product sheet</translation>
    </message>
    <message numerus="yes">
        <source>%n 条卖点</source>
        <translation>
            <numerusform>%n selling point</numerusform>
            <numerusform>%n selling points</numerusform>
        </translation>
    </message>
    <message>
        <source>还没有商品。点“添加”录入，或从 ⋯ 菜单导入店铺的商品表格。</source>
        <translation>No products yet. Click Add, or import the shop's product sheet from the ⋯ menu.</translation>
    </message>
    <message>
        <source>没有找到商品</source>
        <translation>No product found</translation>
    </message>
    <message>
        <source>新商品</source>
        <translation>New product</translation>
    </message>
    <message>
        <source>编辑商品</source>
        <translation>Edit product</translation>
    </message>
    <message>
        <source>清空</source>
        <translation>Clear</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>商品导入模板.xlsx</source>
        <translation>product-template.xlsx</translation>
    </message>
    <message>
        <source>商品资料.xlsx</source>
        <translation>products.xlsx</translation>
    </message>
    <message>
        <source>搜索商品名称、简称或链接</source>
        <translation>Search name, short name or link</translation>
    </message>
    <message>
        <source>添加</source>
        <translation>Add</translation>
    </message>
    <message>
        <source>导入、导出</source>
        <translation>Import, export</translation>
    </message>
    <message>
        <source>从表格导入（CSV/XLSX）…</source>
        <translation>Import from a sheet (CSV/XLSX)…</translation>
    </message>
    <message>
        <source>导出全部商品…</source>
        <translation>Export all products…</translation>
    </message>
    <message>
        <source>导出导入模板…</source>
        <translation>Export an import template…</translation>
    </message>
    <message>
        <source>每行一条，按想发的顺序写；催单时每位买家每条只发一次</source>
        <translation>One a line, in the order to send them; each goes to a buyer once</translation>
    </message>
    <message>
        <source>可不填</source>
        <translation>Optional</translation>
    </message>
    <message>
        <source>填空{商品}用它，可不填</source>
        <translation>Used for {product}; optional</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>商品资料</source>
        <translation>Products</translation>
    </message>
    <message>
        <source>店铺的商品资料只有主管可以修改</source>
        <translation>Only a supervisor changes the shop's product list</translation>
    </message>
    <message>
        <source>店铺商品（只读）</source>
        <translation>Shop product (read-only)</translation>
    </message>
</context>
<context>
    <name>Promotions</name>
    <message>
        <source>{name}
开始 {start} · 电话名单 {phone} · 催付 {pending}/{total} 人</source>
        <translation>{name}
starts {start} · phone list {phone} · wave {pending}/{total} buyers</translation>
    </message>
    <message>
        <source>保存修改</source>
        <translation>Save changes</translation>
    </message>
    <message>
        <source>保存后：开始前 3 小时提醒电话名单，前 2 小时起按顺序催付标星买家。修改开始时间会重新安排。</source>
        <translation>Once saved: the phone list is due 3 hours before the start, and the starred buyers are chased in turn from 2 hours before. Moving the start plans both again.</translation>
    </message>
    <message>
        <source>修改…</source>
        <translation>Edit…</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>只给我自己</source>
        <translation>Only me</translation>
    </message>
    <message>
        <source>大促活动</source>
        <translation>Promotions</translation>
    </message>
    <message>
        <source>店铺活动：{shop}（全店客服）</source>
        <translation>The shop's promotion: {shop} (every agent)</translation>
    </message>
    <message>
        <source>还没有活动。新建一个：开始前 3 小时提醒打电话，前 2 小时依次催付。</source>
        <translation>No promotion yet. Add one: a phone-list reminder 3 hours before the start, and a payment wave from 2 hours before.</translation>
    </message>
    <message>
        <source>新建活动</source>
        <translation>New promotion</translation>
    </message>
    <message>
        <source>活动名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>开始时间</source>
        <translation>Starts</translation>
    </message>
    <message>
        <source>给谁</source>
        <translation>For</translation>
    </message>
    <message>
        <source>添加活动</source>
        <translation>Add promotion</translation>
    </message>
    <message>
        <source>电话名单</source>
        <translation>Phone list</translation>
    </message>
</context>
<context>
    <name>Calls</name>
    <message>
        <source>{客户}您好，{活动}将在{start}开始，您关注的商品有活动价，记得来看看哦～</source>
        <translation>Hi {客户}, {活动} starts at {start} and the item you looked at has a promotion price. Do come and see!</translation>
    </message>
    <message>
        <source>不需要</source>
        <translation>Not needed</translation>
    </message>
    <message>
        <source>以后不再打电话、不再大促催付</source>
        <translation>Never phone them or chase them in a promotion again</translation>
    </message>
    <message>
        <source>先给名单上的买家发短信，再逐个打电话，直到接通。</source>
        <translation>Text everyone on the list first, then call each until they answer.</translation>
    </message>
    <message>
        <source>再打一次</source>
        <translation>call again</translation>
    </message>
    <message>
        <source>勿扰</source>
        <translation>Do not call</translation>
    </message>
    <message>
        <source>名单是空的：没有同时标了“高客单”和“意向明显”的标星买家。</source>
        <translation>The list is empty: no starred buyer is marked both high ticket and high intent.</translation>
    </message>
    <message>
        <source>复制短信</source>
        <translation>Copy SMS</translation>
    </message>
    <message>
        <source>对方夜间，先别打</source>
        <translation>night there, not now</translation>
    </message>
    <message>
        <source>已完成</source>
        <translation>done</translation>
    </message>
    <message>
        <source>待打</source>
        <translation>to call</translation>
    </message>
    <message>
        <source>稍后</source>
        <translation>later</translation>
    </message>
    <message>
        <source>（没有电话）</source>
        <translation>(no phone)</translation>
    </message>
    <message>
        <source>当地 {time} · {status} · {marks}</source>
        <translation>their time {time} · {status} · {marks}</translation>
    </message>
    <message>
        <source>电话名单：{name}</source>
        <translation>Phone list: {name}</translation>
    </message>
    <message>
        <source>接通</source>
        <translation>Answered</translation>
    </message>
    <message>
        <source>未接</source>
        <translation>No answer</translation>
    </message>
    <message>
        <source>改约</source>
        <translation>Call later</translation>
    </message>
    <message>
        <source>过一会儿再打（设置里的分钟数）</source>
        <translation>Call again in a while (the minutes in the settings)</translation>
    </message>
    <message>
        <source>按下面的时间再打</source>
        <translation>Call again at the time below</translation>
    </message>
    <message>
        <source>改约到</source>
        <translation>Call at</translation>
    </message>
    <message>
        <source>短信已复制：先群发短信，再逐个打电话。</source>
        <translation>SMS copied: text everyone first, then call each.</translation>
    </message>
</context>
<context>
    <name>Orders</name>
    <message>
        <source>下单 {placed} · 关闭 {closes}{item}</source>
        <translation>Placed {placed} · closes {closes}{item}</translation>
    </message>
    <message>
        <source>买家：{nick}</source>
        <translation>Buyer: {nick}</translation>
    </message>
    <message>
        <source>例如 128 或 128.00</source>
        <translation>e.g. 128 or 128.00</translation>
    </message>
    <message>
        <source>例如：订单号：3391… 实付款：¥128.00 剩余23小时59分自动关闭</source>
        <translation>e.g. 订单号：3391… 实付款：¥128.00 剩余23小时59分自动关闭 (as the chat client shows it)</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>保存订单导入模板</source>
        <translation>Save the order import template</translation>
    </message>
    <message>
        <source>关闭时间</source>
        <translation>Closes at</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>可不填</source>
        <translation>Optional</translation>
    </message>
    <message>
        <source>商品</source>
        <translation>Item</translation>
    </message>
    <message>
        <source>在聊天窗口复制订单（订单号、金额、剩余时间），粘贴到这里：能读到的都会填上。</source>
        <translation>Copy the order in the chat window (number, amount, time left) and paste it here: whatever can be read is filled in.</translation>
    </message>
    <message>
        <source>完整订单号已复制</source>
        <translation>Full order number copied</translation>
    </message>
    <message>
        <source>完整订单号（点击复制）</source>
        <translation>Full order number (click to copy)</translation>
    </message>
    <message>
        <source>导入平台导出的订单</source>
        <translation>Import the platform's order export</translation>
    </message>
    <message>
        <source>导入平台导出的订单（CSV/XLSX）…</source>
        <translation>Import the platform's order export (CSV/XLSX)…</translation>
    </message>
    <message>
        <source>导入订单表格</source>
        <translation>Import an order sheet</translation>
    </message>
    <message>
        <source>导出订单导入模板…</source>
        <translation>Save the order import template…</translation>
    </message>
    <message>
        <source>已付款</source>
        <translation>Paid</translation>
    </message>
    <message>
        <source>已关闭</source>
        <translation>Closed</translation>
    </message>
    <message>
        <source>已导入订单：新增 {added}，更新 {updated}，跳过 {skipped}</source>
        <translation>Orders imported: {added} added, {updated} updated, {skipped} skipped</translation>
    </message>
    <message>
        <source>已记下订单 {no}，催付提醒已安排</source>
        <translation>Order {no} saved; its payment reminders are planned</translation>
    </message>
    <message>
        <source>手动添加一个未付款订单</source>
        <translation>Add an unpaid order by hand</translation>
    </message>
    <message>
        <source>显示完整订单号</source>
        <translation>Show full number</translation>
    </message>
    <message>
        <source>未付款订单</source>
        <translation>Unpaid orders</translation>
    </message>
    <message>
        <source>模板已保存</source>
        <translation>Template saved</translation>
    </message>
    <message>
        <source>没有未付款订单</source>
        <translation>No unpaid orders</translation>
    </message>
    <message>
        <source>添加</source>
        <translation>Add</translation>
    </message>
    <message>
        <source>添加未付款订单</source>
        <translation>Add an unpaid order</translation>
    </message>
    <message>
        <source>留空 = 平台默认；例如 2026-11-13 14:00</source>
        <translation>Empty = the platform's default; e.g. 2026-11-13 14:00</translation>
    </message>
    <message>
        <source>粘贴聊天窗口里的订单文字，自动读出订单号、金额和剩余时间</source>
        <translation>Paste the order text from the chat window: the number, amount and time left are read from it</translation>
    </message>
    <message>
        <source>粘贴订单</source>
        <translation>Paste order</translation>
    </message>
    <message>
        <source>粘贴订单文字</source>
        <translation>Paste the order text</translation>
    </message>
    <message>
        <source>表格 (*.xlsx *.csv)</source>
        <translation>Spreadsheets (*.xlsx *.csv)</translation>
    </message>
    <message>
        <source>订单</source>
        <translation>Order</translation>
    </message>
    <message>
        <source>订单 {no} 已付款，催付已停止</source>
        <translation>Order {no} paid: its payment chase stopped</translation>
    </message>
    <message>
        <source>订单 {no} 已关闭，催付已停止</source>
        <translation>Order {no} closed: its payment chase stopped</translation>
    </message>
    <message>
        <source>订单号</source>
        <translation>Order number</translation>
    </message>
    <message>
        <source>订单号 {no}</source>
        <translation>Order {no}</translation>
    </message>
    <message>
        <source>读到：</source>
        <translation>Read: </translation>
    </message>
    <message>
        <source>还没读到订单号</source>
        <translation>No order number read yet</translation>
    </message>
    <message>
        <source>金额</source>
        <translation>Amount</translation>
    </message>
    <message>
        <source>本机只有打码的订单号，完整订单号在团队服务器上（未连接）</source>
        <translation>This PC has only the masked order number; the full one is on the team server (not connected)</translation>
    </message>
    <message>
        <source>团队服务器上也没有完整订单号</source>
        <translation>The team server has no full number for this order either</translation>
    </message>
    <message>
        <source>团队服务器拒绝了显示完整订单号（{state}）</source>
        <translation>The team server refused to show the full order number ({state})</translation>
    </message>
</context>
</TS>
